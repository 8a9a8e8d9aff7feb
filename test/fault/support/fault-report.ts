/** What a fault test counted, end to end. The pass line is: lost, duplicate effects, stuck and crashes all 0. */
export interface FaultReport {
  readonly fault: string;
  /** Events committed by producers to the outbox. */
  readonly sent: number;
  /** Events the broker confirmed (their outbox rows marked published or deleted by the relay). */
  readonly confirmed: number;
  /** Effect rows written by handlers: a handler run that committed. */
  readonly effects: number;
  /** Confirmed events without an effect once the run settled. */
  readonly lost: number;
  /** Effect rows beyond the first of the same event. */
  readonly duplicateEffects: number;
  /** Sent events still unconfirmed once the run settled (unpublished past the deadline, or a publish that never settled). */
  readonly stuck: number;
  /** Effects of events that were never sent (a rolled-back producer transaction that got out anyway). */
  readonly phantoms: number;
  /** Child processes that exited without the test killing them. */
  readonly crashes: number;
}

/** The report as one line, with what the fault did besides (`detail`), for the test output. */
export function describeReport(report: FaultReport, detail = ''): string {
  const { fault, sent, confirmed, effects, lost, duplicateEffects, stuck, phantoms, crashes } = report;
  return (
    `[fault] ${fault}: sent ${sent}, confirmed ${confirmed}, effects ${effects}, lost ${lost}, duplicate effects ${duplicateEffects}, ` +
    `stuck ${stuck}, phantoms ${phantoms}, crashes ${crashes}${detail ? `; ${detail}` : ''}`
  );
}

/** The pass line of every fault: nothing lost, doubled, stuck or made up, no process crashed, and every event sent took effect. */
export function expectClean(report: FaultReport): void {
  expect({
    lost: report.lost,
    duplicateEffects: report.duplicateEffects,
    stuck: report.stuck,
    phantoms: report.phantoms,
    crashes: report.crashes,
  }).toEqual({ lost: 0, duplicateEffects: 0, stuck: 0, phantoms: 0, crashes: 0 });
  expect(report.sent).toBeGreaterThan(0);
  expect(report.confirmed).toBe(report.sent);
  expect(report.effects).toBe(report.sent);
}
