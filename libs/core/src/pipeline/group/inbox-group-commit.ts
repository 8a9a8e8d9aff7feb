import type { BatchedEvent, BatchHandlerFn } from '../handler-binding.js';
import type { InboxEntryResult, InboxStore } from '../inbox.store.js';
import { DeliveryGrouper } from './delivery-grouper.js';
import type { ResolvedGroupCommitOptions } from './group-commit.options.js';

/** What became of a delivery that went through a group: handled now, or handled before. Failures reject. */
export type GroupedOutcome = 'handled' | 'duplicate';

/** One delivery waiting for its group. */
export interface GroupedDelivery {
  readonly messageId: string;
  readonly orderingKey?: string;
  /** What runs inside the delivery's own savepoint: the rest of the pipeline, or a one-event call of the batch handler. */
  readonly work: () => Promise<void>;
  /** Batch mode: the event the batch handler gets. */
  readonly event?: BatchedEvent;
}

interface Member extends GroupedDelivery {
  settle(result: InboxEntryResult): void;
}

type GroupInbox = InboxStore & Required<Pick<InboxStore, 'runGroup'>>;

/**
 * Group commit through the inbox: deliveries that arrive together are handled in one transaction. In per-delivery
 * mode each runs its own handler in its own savepoint; in batch mode the batch handler gets them all in one call and,
 * if it throws, they are handled again one at a time in savepoints. Either way one commit settles the group, and each
 * delivery learns its own outcome: a handler that threw fails only its delivery.
 */
export class InboxGroupCommit {
  private readonly grouper: DeliveryGrouper<Member>;

  constructor(
    private readonly inbox: GroupInbox,
    private readonly consumer: string,
    options: ResolvedGroupCommitOptions,
    private readonly batchHandler?: BatchHandlerFn,
  ) {
    this.grouper = new DeliveryGrouper(options, (group) => this.commit(group));
  }

  /** Resolves once the delivery's group committed; rejects with the handler's error, or the transaction's. */
  run(delivery: GroupedDelivery): Promise<GroupedOutcome> {
    return new Promise((resolve, reject) => {
      this.grouper.add({
        ...delivery,
        settle: (result) => (result.kind === 'failed' ? reject(result.error) : resolve(result.kind)),
      });
    });
  }

  private async commit(group: readonly Member[]): Promise<void> {
    try {
      if (this.batchHandler && group.length > 1 && (await this.commitBatch(group, this.batchHandler))) return;
      const results = await this.inbox.runGroup(
        this.consumer,
        group.map((member) => ({ messageId: member.messageId, work: member.work })),
      );
      group.forEach((member, index) => member.settle(results[index] ?? { kind: 'failed', error: missingResult(index) }));
    } catch (error) {
      for (const member of group) member.settle({ kind: 'failed', error });
    }
  }

  /** One call of the batch handler for the whole group; `false` if it (or its transaction) failed. */
  private async commitBatch(group: readonly Member[], handle: BatchHandlerFn): Promise<boolean> {
    const events = group.map((member) => member.event as BatchedEvent);
    let fresh: ReadonlySet<number>;
    try {
      const runBatch = this.inbox.runBatch?.bind(this.inbox);
      if (!runBatch) return false;
      fresh = new Set(
        await runBatch(
          this.consumer,
          group.map((member) => member.messageId),
          async (indexes) => {
            if (indexes.length > 0) await handle(indexes.map((index) => events[index] as BatchedEvent));
          },
        ),
      );
    } catch {
      return false; // one at a time, so the deliveries that can succeed do, and each failure is its own
    }
    group.forEach((member, index) => member.settle({ kind: fresh.has(index) ? 'handled' : 'duplicate' }));
    return true;
  }
}

const missingResult = (index: number): Error =>
  new Error(`The inbox returned no result for entry ${index} of a group; the delivery is retried`);
