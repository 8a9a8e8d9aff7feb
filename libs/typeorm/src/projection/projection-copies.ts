import type { ProjectionCopy } from '@tidings/core';
import { ConfigurationError } from '@tidings/core';
import { checkIdentifier } from '../schema/table-name.js';

const REBUILD_SUFFIX = '__rebuild';
const RETIRED_SUFFIX = '__retired';

/**
 * The schemas of a projection's read-model copies. The live copy has the stable name readers use; a rebuild fills
 * `<name>__rebuild`, and the swap renames the live one to `<name>__retired` and the rebuilt one to `<name>`, in one
 * transaction. Each copy holds its own checkpoint, so the rename moves a copy and its position together.
 */
export class ProjectionCopies {
  readonly live: string;
  readonly rebuild: string;
  readonly retired: string;

  constructor(projection: string, schema: string) {
    this.live = checkIdentifier(`Projection ${projection}`, 'schema', schema);
    if (schema.length + RETIRED_SUFFIX.length > 63) {
      throw new ConfigurationError(
        `Projection ${projection}: schema name '${schema}' is too long to rename copies of it`,
        `Use a schema name of at most ${63 - RETIRED_SUFFIX.length} characters.`,
        { projection, schema },
      );
    }
    this.rebuild = `${schema}${REBUILD_SUFFIX}`;
    this.retired = `${schema}${RETIRED_SUFFIX}`;
  }

  of(copy: ProjectionCopy): string {
    return copy === 'live' ? this.live : this.rebuild;
  }
}
