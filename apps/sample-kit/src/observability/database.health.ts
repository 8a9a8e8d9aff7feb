import type { ComponentHealth } from '@tidings/nestjs';
import { errorSummary } from '@tidings/core';
import type { DataSource } from 'typeorm';

const DATABASE_TIMEOUT_MS = 2000;

/** Whether the service's database answers a trivial query within two seconds. */
export async function databaseHealth(dataSource: DataSource): Promise<ComponentHealth> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_TIMEOUT_MS} ms`)), DATABASE_TIMEOUT_MS);
  });
  try {
    await Promise.race([dataSource.query('SELECT 1'), timeout]);
    return { status: 'up', detail: 'PostgreSQL answers' };
  } catch (error) {
    return { status: 'down', detail: `PostgreSQL unreachable: ${errorSummary(error)}` };
  } finally {
    clearTimeout(timer);
  }
}
