import { TidingsError } from '../errors/tidings.error.js';

/** A rebuild of the projection is already running (in this process or another). */
export class ProjectionRebuildRunningError extends TidingsError {
  readonly code = 'TIDINGS_PROJECTION_REBUILD_RUNNING';

  constructor(projection: string) {
    super(`A rebuild of projection ${projection} is already running`, {
      context: { projection },
      hint: 'Wait for it to finish (its progress is in the admin endpoint or the CLI that started it); a killed rebuild is resumed by starting it again.',
    });
  }
}

/** A rebuild was stopped before its copy went live; starting it again resumes it from its checkpoint. */
export class ProjectionRebuildAbortedError extends TidingsError {
  readonly code = 'TIDINGS_PROJECTION_REBUILD_ABORTED';

  constructor(projection: string, position: number) {
    super(`The rebuild of projection ${projection} was stopped at position ${position}, before the swap`, {
      context: { projection, position },
      hint: 'Start the rebuild again: it resumes from this position.',
    });
  }
}
