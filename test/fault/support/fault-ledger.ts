import { setTimeout as delay } from 'node:timers/promises';
import type { Envelope } from '@tidings/core';
import type { TypeOrmOutboxStore } from '@tidings/typeorm';
import type { DataSource } from 'typeorm';
import { EffectLedger } from '../../typeorm/effect-ledger.js';
import type { FaultReport } from './fault-report.js';

/** Options of {@link FaultLedger.settle}. */
export interface SettleOptions {
  /** How long the run may take to deliver everything it sent, after which what is missing counts as lost or stuck. */
  readonly timeoutMs: number;
  /** Child processes that died on their own (see `Children.crashes`). */
  readonly crashes?: () => number;
}

/**
 * The ledger of a fault test, in the database the pipeline writes to (one schema per test): `sent` holds the id of
 * every event a producer committed, written in the producer's own transaction, so an event rolled back is not in it;
 * `confirmed` the ids the broker confirmed (the sent ids whose outbox row is no longer pending); `effects` one row per handler run that committed, with no uniqueness, so a doubled effect shows.
 */
export class FaultLedger {
  readonly effects: EffectLedger;
  private readonly sent: string;
  private readonly confirmed: string;
  private readonly outbox: string;

  constructor(
    private readonly source: DataSource,
    private readonly schema: string,
    /** The consumer (subscription) whose effects count. */
    readonly consumer: string,
  ) {
    this.effects = new EffectLedger(source, schema);
    this.sent = `"${schema}".fault_sent`;
    this.confirmed = `"${schema}".fault_confirmed`;
    this.outbox = `"${schema}".tidings_outbox`;
  }

  async create(): Promise<void> {
    await this.effects.create();
    await this.source.query(`CREATE TABLE IF NOT EXISTS ${this.sent} (id text PRIMARY KEY)`);
    await this.source.query(`CREATE TABLE IF NOT EXISTS ${this.confirmed} (id text PRIMARY KEY)`);
  }

  /** Commits `envelopes` to the outbox and to the ledger in one transaction of `source` (the producer's). */
  async commit(source: DataSource, store: TypeOrmOutboxStore, envelopes: readonly Envelope[]): Promise<void> {
    await source.transaction(async (manager) => {
      await store.add(manager, envelopes);
      await manager.query(`INSERT INTO ${this.sent} (id) SELECT unnest($1::text[])`, [envelopes.map((e) => e.id)]);
    });
  }

  /** Counts what happened so far (an outbox row no longer pending counts as confirmed). */
  async report(fault: string, crashes = 0): Promise<FaultReport> {
    // A sent event's row went into the outbox in the same transaction; the relay marks or deletes it once confirmed.
    await this.source.query(
      `INSERT INTO ${this.confirmed} (id) SELECT s.id FROM ${this.sent} s
         WHERE NOT EXISTS (SELECT 1 FROM ${this.outbox} o WHERE o.message_id = s.id AND o.published_at IS NULL)
       ON CONFLICT DO NOTHING`,
    );
    const effects = `"${this.schema}".effects`;
    const [row] = (await this.source.query(
      `SELECT
         (SELECT count(*) FROM ${this.sent})::int AS sent,
         (SELECT count(*) FROM ${this.confirmed})::int AS confirmed,
         (SELECT count(*) FROM ${effects} WHERE consumer = $1)::int AS effects,
         (SELECT count(*) - count(DISTINCT message_id) FROM ${effects} WHERE consumer = $1)::int AS duplicates,
         (SELECT count(*) FROM ${this.confirmed} c
            WHERE NOT EXISTS (SELECT 1 FROM ${effects} e WHERE e.consumer = $1 AND e.message_id = c.id))::int AS lost,
         (SELECT count(*) FROM ${this.sent} s WHERE NOT EXISTS (SELECT 1 FROM ${this.confirmed} c WHERE c.id = s.id))::int AS stuck,
         (SELECT count(DISTINCT message_id) FROM ${effects} e
            WHERE e.consumer = $1 AND NOT EXISTS (SELECT 1 FROM ${this.sent} s WHERE s.id = e.message_id))::int AS phantoms`,
      [this.consumer],
    )) as { sent: number; confirmed: number; effects: number; duplicates: number; lost: number; stuck: number; phantoms: number }[];
    if (!row) throw new Error('the ledger query returned no row');
    const { sent, confirmed, lost, stuck, phantoms, duplicates } = row;
    return { fault, sent, confirmed, effects: row.effects, lost, duplicateEffects: duplicates, stuck, phantoms, crashes };
  }

  /**
   * Waits until every event sent is confirmed and took effect, or `timeoutMs` passed; then reports. What is still
   * missing at the deadline is what the report calls lost (confirmed, no effect) or stuck (never confirmed).
   */
  async settle(fault: string, options: SettleOptions): Promise<FaultReport> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const report = await this.report(fault, options.crashes?.() ?? 0);
      const done = report.stuck === 0 && report.lost === 0 && report.sent > 0;
      if (done || Date.now() > deadline) return report;
      await delay(250);
    }
  }
}
