import { checkIdentifier } from '@tidings/typeorm';
import { DataSource, type MigrationInterface } from 'typeorm';

/** One sample service's database: its own PostgreSQL schema and the migrations that build it. */
export interface ServiceDatabaseOptions {
  /** Service name, for errors and the migrations table (`<service>_migrations`). */
  readonly service: string;
  readonly databaseUrl: string;
  /** The PostgreSQL schema holding this service's tables; created if missing, unless there are no migrations. */
  readonly schema: string;
  /** None: the service's tables are created otherwise (the feed's projection store creates its read model). */
  readonly migrations: ReadonlyArray<new () => MigrationInterface>;
  /** @default 10 */
  readonly poolSize?: number;
}

/** Connects, creates the service's schema if needed and runs its migrations (if it has any), so a service starts on an empty database. */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<DataSource> {
  const schema = checkIdentifier(options.service, 'schema', options.schema);
  const migrated = options.migrations.length > 0;
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.databaseUrl,
    ...(migrated && { schema }),
    poolSize: options.poolSize ?? 10,
    migrations: [...options.migrations],
    migrationsTableName: `${options.service}_migrations`,
  });
  await dataSource.initialize();
  if (!migrated) return dataSource;
  try {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
