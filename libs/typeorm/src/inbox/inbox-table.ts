import { tableName, type TableOptions } from '../schema/table-name.js';

/** Where the inbox lives. Table name @default 'tidings_inbox' */
export type InboxTableOptions = TableOptions;

/** The quoted, schema-qualified inbox table name; names are checked, never interpolated unchecked into SQL. */
export function inboxTableName(options: InboxTableOptions = {}): string {
  return tableName('Inbox', 'tidings_inbox', options).qualified;
}
