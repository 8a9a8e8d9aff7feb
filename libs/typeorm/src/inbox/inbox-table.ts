import { ConfigurationError } from '@tidings/core';

/** Where the inbox lives. */
export interface InboxTableOptions {
  /** PostgreSQL schema. @default the connection's search_path (usually `public`) */
  readonly schema?: string;
  /** Table name. @default 'tidings_inbox' */
  readonly table?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The quoted, schema-qualified table name; names are checked, never interpolated unchecked into SQL. */
export function inboxTableName(options: InboxTableOptions = {}): string {
  const table = options.table ?? 'tidings_inbox';
  for (const [option, value] of [
    ['table', table],
    ['schema', options.schema],
  ] as const) {
    if (value !== undefined && !IDENTIFIER.test(value)) {
      throw new ConfigurationError(
        `Inbox option ${option} '${value}' is not a plain PostgreSQL identifier`,
        'Use lower-case letters, digits and underscores.',
        {
          option,
        },
      );
    }
  }
  return options.schema === undefined ? `"${table}"` : `"${options.schema}"."${table}"`;
}
