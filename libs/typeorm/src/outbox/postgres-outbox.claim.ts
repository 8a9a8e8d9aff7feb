import type { OutboxClaim, OutboxClaimResult, OutboxRecord } from '@tidings/core';
import type { QueryRunner } from 'typeorm';
import type { OutboxSql } from './outbox-sql.js';

/**
 * Rows claimed in one open transaction: the heads' row locks keep other relays off them (and off
 * their keys) until {@link complete} commits or {@link release} rolls back. A crashed relay's
 * connection closes, PostgreSQL rolls back, and the rows are claimable again.
 */
export class PostgresOutboxClaim implements OutboxClaim {
  private ended = false;

  constructor(
    private readonly runner: QueryRunner,
    readonly records: readonly OutboxRecord[],
    private readonly sql: OutboxSql,
    private readonly keepPublished: boolean,
  ) {}

  async complete(result: OutboxClaimResult): Promise<void> {
    if (this.ended) return;
    try {
      if (result.published.length > 0) {
        await this.runner.query(this.keepPublished ? this.sql.markPublished : this.sql.deletePublished, [result.published]);
      }
      const byReason = new Map<string, string[]>();
      for (const { position, reason } of result.failed) byReason.set(reason, [...(byReason.get(reason) ?? []), position]);
      for (const [reason, positions] of byReason) await this.runner.query(this.sql.recordFailure, [positions, reason.slice(0, 2000)]);
      await this.runner.commitTransaction();
    } catch (error) {
      await this.rollback();
      throw error;
    } finally {
      await this.end();
    }
  }

  async release(): Promise<void> {
    if (this.ended) return;
    await this.rollback();
    await this.end();
  }

  private async rollback(): Promise<void> {
    if (this.runner.isTransactionActive) await this.runner.rollbackTransaction().catch(() => undefined);
  }

  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.runner.release().catch(() => undefined);
  }
}
