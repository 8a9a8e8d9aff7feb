import { ConfigurationError } from '@tidings/core';

/** Where one of Tidings' tables lives. */
export interface TableOptions {
  /** PostgreSQL schema. @default the connection's search_path (usually `public`) */
  readonly schema?: string;
  /** Table name. */
  readonly table?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a name that will be put into SQL: only plain identifiers, never anything to quote or escape. */
export function checkIdentifier(owner: string, option: string, value: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new ConfigurationError(
      `${owner} option ${option} '${value}' is not a plain PostgreSQL identifier`,
      'Use lower-case letters, digits and underscores (at most 63).',
      { option },
    );
  }
  return value;
}

/** A table's resolved names: the quoted, schema-qualified name for SQL and a prefix for its indexes. */
export interface TableName {
  readonly qualified: string;
  readonly table: string;
  readonly schema?: string;
  /** `"<schema>"."<table>_<suffix>"`-style names for the table's indexes, kept under 63 characters. */
  index(suffix: string): string;
}

export function tableName(owner: string, defaultTable: string, options: TableOptions = {}): TableName {
  const table = checkIdentifier(owner, 'table', options.table ?? defaultTable);
  const schema = options.schema === undefined ? undefined : checkIdentifier(owner, 'schema', options.schema);
  return {
    qualified: schema === undefined ? `"${table}"` : `"${schema}"."${table}"`,
    table,
    ...(schema !== undefined && { schema }),
    index: (suffix) => `"${table.slice(0, 62 - suffix.length)}_${suffix}"`,
  };
}
