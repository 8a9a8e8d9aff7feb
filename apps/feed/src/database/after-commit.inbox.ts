import { Logger } from '@nestjs/common';
import { errorSummary, type InboxKey, type InboxStore, type TidingsLogger } from '@tidings/core';
import { NoTransactionError } from '@tidings/typeorm';
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * An inbox that lets a handler run code once its delivery's transaction has committed, and only then.
 *
 * Why a wrapper: `TransactionContext` has no after-commit hook, and pipeline middleware runs inside the inbox
 * transaction (after the dedupe step), so neither can tell when the commit happened. `runOnce` of the wrapped inbox
 * resolves exactly then: its transaction (inbox row and the handler's writes) has committed. It rejects if the
 * transaction rolled back, and the callbacks registered during it are dropped; a skipped duplicate registers none.
 */
export class AfterCommitInbox implements InboxStore {
  private readonly pending = new AsyncLocalStorage<Array<() => void>>();

  constructor(
    readonly inner: InboxStore,
    private readonly logger: TidingsLogger = new Logger(AfterCommitInbox.name),
  ) {}

  get retentionMs(): number | undefined {
    return this.inner.retentionMs;
  }

  purgeExpired(limit: number): Promise<number> {
    return this.inner.purgeExpired ? this.inner.purgeExpired(limit) : Promise.resolve(0);
  }

  async runOnce(key: InboxKey, work: () => Promise<void>): Promise<boolean> {
    const callbacks: Array<() => void> = [];
    const ran = await this.pending.run(callbacks, () => this.inner.runOnce(key, work));
    for (const callback of callbacks) {
      // The delivery is committed: a failing callback must not turn it into a retry, which the inbox would skip anyway.
      try {
        callback();
      } catch (error) {
        this.logger.error(`An after-commit callback of message ${key.messageId} (${key.consumer}) failed: ${errorSummary(error)}`);
      }
    }
    return ran;
  }

  /** Runs `callback` after the current delivery's transaction commits (never if it rolls back). Only inside a delivery. */
  afterCommit(callback: () => void): void {
    const callbacks = this.pending.getStore();
    if (!callbacks) throw new NoTransactionError('AfterCommitInbox.afterCommit()');
    callbacks.push(callback);
  }
}
