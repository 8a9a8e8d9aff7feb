import type { InboxKey, InboxStore } from '@tidings/core';
import { NoTransactionError } from '@tidings/typeorm';
import { AfterCommitInbox } from './after-commit.inbox.js';

/** An inbox without a database: runs work once per message id and records when each "commit" happened. */
class FakeInbox implements InboxStore {
  readonly retentionMs = 1234;
  readonly log: string[] = [];
  private readonly seen = new Set<string>();

  async runOnce(key: InboxKey, work: () => Promise<void>): Promise<boolean> {
    if (this.seen.has(key.messageId)) return false;
    await work(); // throws: rolled back
    this.seen.add(key.messageId);
    this.log.push(`commit ${key.messageId}`);
    return true;
  }

  async purgeExpired(limit: number): Promise<number> {
    return limit - 1;
  }
}

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('AfterCommitInbox', () => {
  it('runs the callbacks a delivery registered after its commit, in order, and none for a skipped duplicate', async () => {
    const inner = new FakeInbox();
    const inbox = new AfterCommitInbox(inner, silent);
    const work = async (): Promise<void> => {
      await Promise.resolve(); // across an await, as a handler's query would be
      inbox.afterCommit(() => inner.log.push('first'));
      inbox.afterCommit(() => inner.log.push('second'));
    };

    expect(await inbox.runOnce({ messageId: 'm1', consumer: 'feed.projection' }, work)).toBe(true);
    expect(await inbox.runOnce({ messageId: 'm1', consumer: 'feed.projection' }, work)).toBe(false);
    expect(inner.log).toEqual(['commit m1', 'first', 'second']);
  });

  it('drops the callbacks of a delivery that rolled back, and keeps concurrent deliveries apart', async () => {
    const inner = new FakeInbox();
    const inbox = new AfterCommitInbox(inner, silent);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));

    const failing = inbox.runOnce({ messageId: 'm1', consumer: 'c' }, async () => {
      inbox.afterCommit(() => inner.log.push('from m1'));
      await held;
      throw new Error('deadlock detected');
    });
    const passing = inbox.runOnce({ messageId: 'm2', consumer: 'c' }, async () => {
      inbox.afterCommit(() => inner.log.push('from m2'));
      release();
    });

    await expect(failing).rejects.toThrow('deadlock detected');
    expect(await passing).toBe(true);
    expect(inner.log).toEqual(['commit m2', 'from m2']);
  });

  it('does not fail a committed delivery when a callback throws', async () => {
    const inner = new FakeInbox();
    const errors: string[] = [];
    const inbox = new AfterCommitInbox(inner, { ...silent, error: (message) => errors.push(message) });
    const ran = await inbox.runOnce({ messageId: 'm1', consumer: 'c' }, async () => {
      inbox.afterCommit(() => {
        throw new Error('subscriber broke');
      });
      inbox.afterCommit(() => inner.log.push('still runs'));
    });
    expect(ran).toBe(true);
    expect(inner.log).toEqual(['commit m1', 'still runs']);
    expect(errors).toEqual(['An after-commit callback of message m1 (c) failed: Error: subscriber broke']);
  });

  it('refuses a callback outside a delivery, and passes retention and purging through', async () => {
    const inbox = new AfterCommitInbox(new FakeInbox(), silent);
    expect(() => inbox.afterCommit(() => undefined)).toThrow(NoTransactionError);
    expect(inbox.retentionMs).toBe(1234);
    expect(await inbox.purgeExpired(10)).toBe(9);
  });
});
