import type { ComponentHealth } from '@tidings/nestjs';
import { errorSummary, withDeadline } from '@tidings/core';
import type { DataSource } from 'typeorm';

const DATABASE_TIMEOUT_MS = 2000;

/** Whether the service's database answers a trivial query within two seconds. */
export async function databaseHealth(dataSource: DataSource): Promise<ComponentHealth> {
  try {
    await withDeadline(dataSource.query('SELECT 1'), DATABASE_TIMEOUT_MS, 'SELECT 1');
    return { status: 'up', detail: 'PostgreSQL answers' };
  } catch (error) {
    return { status: 'down', detail: `PostgreSQL unreachable: ${errorSummary(error)}` };
  }
}
