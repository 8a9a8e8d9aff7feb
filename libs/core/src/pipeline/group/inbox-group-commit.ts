import { ConfigurationError } from '../../errors/configuration.error.js';
import type { BatchedEvent, BatchHandlerFn } from '../handler-binding.js';
import type { InboxEntryResult, InboxStore } from '../inbox.store.js';
import { DeliveryGrouper } from './delivery-grouper.js';
import type { ResolvedGroupCommitOptions } from './group-commit.options.js';

/** What became of a delivery that went through a group: handled now, or handled before. Failures reject. */
export type GroupedOutcome = 'handled' | 'duplicate';

/** One delivery waiting for its group. */
export interface GroupedDelivery {
  readonly messageId: string;
  readonly orderingKey?: string | undefined;
  /** Per-delivery mode: what runs inside the delivery's own savepoint (the rest of the pipeline). */
  readonly work?: () => Promise<void>;
  /** Batch mode: the event the batch handler gets, in the batch or, after a failed batch, alone in a savepoint. */
  readonly event?: BatchedEvent;
}

/** A delivery in a group, and how to tell it what became of it (built once per delivery: no spread, no closures). */
class Member {
  constructor(
    readonly delivery: GroupedDelivery,
    private readonly resolve: (outcome: GroupedOutcome) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  get orderingKey(): string | undefined {
    return this.delivery.orderingKey;
  }

  settle(result: InboxEntryResult): void {
    if (result.kind === 'failed') this.reject(result.error);
    else this.resolve(result.kind);
  }
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
    if (!delivery.work && !(this.batchHandler && delivery.event)) {
      return Promise.reject(
        new ConfigurationError(
          `Delivery ${delivery.messageId} joined group commit of ${this.consumer} with neither work nor a batch event`,
          'Give a delivery its work, or its event when the group has a batch handler.',
          { consumer: this.consumer },
        ),
      );
    }
    return new Promise((resolve, reject) => this.grouper.add(new Member(delivery, resolve, reject)));
  }

  private async commit(group: readonly Member[]): Promise<void> {
    try {
      if (this.batchHandler && group.length > 1 && (await this.commitBatch(group, this.batchHandler))) return;
      const results = await this.inbox.runGroup(
        this.consumer,
        group.map(({ delivery }) => ({ messageId: delivery.messageId, work: this.workOf(delivery) })),
      );
      group.forEach((member, index) => member.settle(results[index] ?? { kind: 'failed', error: missingResult(index) }));
    } catch (error) {
      for (const member of group) member.settle({ kind: 'failed', error });
    }
  }

  /** What a delivery runs in its savepoint: its own work, or (batch mode) the batch handler with its event alone. */
  private workOf(delivery: GroupedDelivery): () => Promise<void> {
    const { work, event } = delivery;
    if (work) return work;
    const handle = this.batchHandler as BatchHandlerFn; // run() admits a delivery without work only with both
    return async () => {
      await handle([event as BatchedEvent]);
    };
  }

  /** One call of the batch handler for the whole group; `false` if it (or its transaction) failed. */
  private async commitBatch(group: readonly Member[], handle: BatchHandlerFn): Promise<boolean> {
    const events = group.map((member) => member.delivery.event as BatchedEvent);
    let fresh: ReadonlySet<number>;
    try {
      const runBatch = this.inbox.runBatch?.bind(this.inbox);
      if (!runBatch) return false;
      fresh = new Set(
        await runBatch(
          this.consumer,
          group.map((member) => member.delivery.messageId),
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
