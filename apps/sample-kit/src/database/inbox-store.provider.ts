import type { FactoryProvider } from '@nestjs/common';
import { TransactionContext, TypeOrmInboxStore, type TypeOrmInboxOptions } from '@tidings/typeorm';
import { DataSource } from 'typeorm';

/**
 * The service's inbox, for `ServiceDatabaseModule.forRoot`'s stores. It opens its transactions on the service's
 * TransactionContext, so handlers that write through that context commit with the inbox row.
 */
export function inboxStoreProvider(
  schema: string,
  options: Omit<TypeOrmInboxOptions, 'schema' | 'transactions'> = {},
): FactoryProvider<TypeOrmInboxStore> {
  return {
    provide: TypeOrmInboxStore,
    useFactory: (ds: DataSource, transactions: TransactionContext) => new TypeOrmInboxStore(ds, { ...options, schema, transactions }),
    inject: [DataSource, TransactionContext],
  };
}
