import type { MigrationInterface } from 'typeorm';

/** A TypeORM migration class, as `DataSourceOptions.migrations` lists them. */
export type MigrationClass = new () => MigrationInterface;
