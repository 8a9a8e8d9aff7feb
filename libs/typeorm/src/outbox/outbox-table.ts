import { tableName, type TableName, type TableOptions } from '../schema/table-name.js';

/** Where the outbox lives. Table name @default 'tidings_outbox' */
export type OutboxTableOptions = TableOptions;

/** The outbox table's names, and the NOTIFY channel its writers signal on (`<schema>.<table>` or `<table>`). */
export function outboxTable(options: OutboxTableOptions = {}): TableName & { readonly channel: string } {
  const name = tableName('Outbox', 'tidings_outbox', options);
  // Channel names are identifiers (at most 63 bytes); schema and table are plain identifiers, so this is safe to quote.
  const channel = (name.schema === undefined ? name.table : `${name.schema}.${name.table}`).slice(0, 63);
  return { ...name, channel };
}
