import type { OutboxBacklog, OutboxClaim, OutboxClaimResult, OutboxStore, OutboxWatch } from '@tidings/core';

/**
 * An {@link OutboxStore} that passes every call to the real store and counts what the relay does with it: claims
 * asked for, claims that found nothing, rows completed. `whenCompleted(n)` resolves as soon as `n` rows were
 * completed (deleted and committed), without polling. A few integer updates per claim: nothing measurable.
 */
export class ObservedStore implements OutboxStore {
  claims = 0;
  emptyClaims = 0;
  completedRows = 0;
  private target: { readonly rows: number; readonly reached: () => void } | undefined;

  constructor(private readonly inner: OutboxStore) {}

  whenCompleted(rows: number): Promise<void> {
    return new Promise((reached) => {
      this.target = { rows, reached };
      this.check();
    });
  }

  async claim(limit: number): Promise<OutboxClaim | undefined> {
    this.claims += 1;
    const claim = await this.inner.claim(limit);
    if (!claim) {
      this.emptyClaims += 1;
      return undefined;
    }
    return {
      records: claim.records,
      complete: async (result: OutboxClaimResult) => {
        await claim.complete(result);
        this.completedRows += result.published.length;
        this.check();
      },
      release: () => claim.release(),
    };
  }

  watch(wake: () => void, onError: (error: Error) => void): Promise<OutboxWatch> {
    if (!this.inner.watch) throw new Error('the store has no watch');
    return this.inner.watch(wake, onError);
  }

  backlog(): Promise<OutboxBacklog> {
    return this.inner.backlog();
  }

  purgePublished(limit: number): Promise<number> {
    return this.inner.purgePublished ? this.inner.purgePublished(limit) : Promise.resolve(0);
  }

  private check(): void {
    if (this.target && this.completedRows >= this.target.rows) {
      const { reached } = this.target;
      this.target = undefined;
      reached();
    }
  }
}
