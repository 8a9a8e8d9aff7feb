import pg from 'pg';
import type { DataSource } from 'typeorm';

/** The pg pool TypeORM's postgres driver keeps; its options are the connection's own (URL, host, credentials, TLS). */
interface DriverWithPool {
  readonly master?: { readonly options?: pg.ClientConfig };
}

/**
 * A new pg client with the DataSource's connection settings, outside its pool: for sessions that must
 * not take a pooled connection from the application (LISTEN, the wake-up NOTIFYs).
 */
export function dedicatedClient(dataSource: DataSource, applicationName: string): pg.Client {
  const config = (dataSource.driver as unknown as DriverWithPool).master?.options ?? {};
  return new pg.Client({ ...config, application_name: applicationName });
}
