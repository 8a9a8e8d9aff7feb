/** Where a rebuild stands; reported while it runs (CLI progress bar, admin endpoint). */
export interface RebuildProgress {
  readonly projection: string;
  /** `replaying` the log into the new copy, `swapping` it live, `done`. */
  readonly phase: 'replaying' | 'swapping' | 'done';
  /** The new copy's checkpoint when this run started: 0 for a fresh rebuild, more when it resumed one. */
  readonly resumedFrom: number;
  /** The new copy's checkpoint. */
  readonly position: number;
  /** The head of the log, as last read (the live copy keeps moving it). */
  readonly head: number;
  /** Log entries applied per second, over the last few seconds. */
  readonly eventsPerSecond: number;
  /** Seconds left at the current rate; `undefined` before there is a rate. */
  readonly etaSeconds: number | undefined;
}

/** What a finished rebuild did. */
export interface RebuildResult {
  readonly projection: string;
  /** The checkpoint of the copy that went live. */
  readonly position: number;
  readonly resumedFrom: number;
  /** Log entries this run applied (not counting those of an interrupted run it resumed). */
  readonly entries: number;
  readonly seconds: number;
}
