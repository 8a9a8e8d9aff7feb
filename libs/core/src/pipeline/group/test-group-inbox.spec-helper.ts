import type { InboxEntryResult, InboxGroupEntry, InboxKey, InboxStore } from '../inbox.store.js';

/**
 * An in-memory inbox with a transactional store's semantics, for unit tests: `write` records an effect in the current
 * transaction (and savepoint); effects and inbox records become visible only when the transaction commits.
 */
export class TestGroupInbox implements InboxStore {
  /** Committed effects, in commit order. */
  readonly effects: string[] = [];
  /** Transactions committed, with how many entries each held. */
  readonly commits: number[] = [];
  /** Makes the next commit fail (as a lost connection would). */
  failNextCommit = false;
  private readonly handled = new Set<string>();
  private current: string[] | undefined;

  write(effect: string): void {
    if (!this.current) throw new Error('write outside a transaction');
    this.current.push(effect);
  }

  async runOnce(key: InboxKey, work: () => Promise<void>): Promise<boolean> {
    const [result] = await this.runGroup(key.consumer, [{ messageId: key.messageId, work }]);
    if (result?.kind === 'failed') throw result.error;
    return result?.kind === 'handled';
  }

  async runGroup(consumer: string, entries: readonly InboxGroupEntry[]): Promise<readonly InboxEntryResult[]> {
    const claimed = new Set<string>();
    const transaction: string[] = [];
    const results: InboxEntryResult[] = [];
    for (const entry of entries) {
      const key = `${consumer}/${entry.messageId}`;
      if (this.handled.has(key) || claimed.has(key)) {
        results.push({ kind: 'duplicate' });
        continue;
      }
      const savepoint: string[] = [];
      this.current = savepoint;
      try {
        await entry.work();
        transaction.push(...savepoint);
        claimed.add(key);
        results.push({ kind: 'handled' });
      } catch (error) {
        results.push({ kind: 'failed', error });
      } finally {
        this.current = undefined;
      }
    }
    this.commit(claimed, transaction, entries.length);
    return results;
  }

  async runBatch(
    consumer: string,
    messageIds: readonly string[],
    work: (fresh: readonly number[]) => Promise<void>,
  ): Promise<readonly number[]> {
    const claimed = new Set<string>();
    const fresh: number[] = [];
    messageIds.forEach((id, index) => {
      const key = `${consumer}/${id}`;
      if (this.handled.has(key) || claimed.has(key)) return;
      claimed.add(key);
      fresh.push(index);
    });
    const transaction: string[] = [];
    this.current = transaction;
    try {
      await work(fresh);
    } finally {
      this.current = undefined;
    }
    this.commit(claimed, transaction, messageIds.length);
    return fresh;
  }

  private commit(claimed: ReadonlySet<string>, effects: readonly string[], entries: number): void {
    if (this.failNextCommit) {
      this.failNextCommit = false;
      throw new Error('connection lost during COMMIT');
    }
    for (const key of claimed) this.handled.add(key);
    this.effects.push(...effects);
    this.commits.push(entries);
  }
}
