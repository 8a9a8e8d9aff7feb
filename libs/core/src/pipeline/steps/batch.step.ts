import type { PipelineStep } from '../delivery.context.js';
import type { InboxGroupCommit } from '../group/inbox-group-commit.js';
import type { BatchedEvent } from '../handler-binding.js';

/**
 * Last step of a batch handler's subscription, in place of dedupe and invoke: the delivery joins a batch, and settles
 * when the batch (or, after a failed batch, its own one-event retry of it) has committed. It does not call `next`.
 */
export const batchStep =
  (group: InboxGroupCommit): PipelineStep =>
  async (context) => {
    const { envelope, handler, message, subscription } = context;
    const batch = handler!.batch!;
    const event: BatchedEvent = { data: context.data, context: { envelope: envelope!, attempt: message.attempt, subscription } };
    const outcome = await group.run({
      messageId: envelope!.id,
      ...(envelope!.partitionkey !== undefined && { orderingKey: envelope!.partitionkey }),
      event,
      work: async () => {
        await batch.handle([event]);
      },
    });
    context.duplicate = outcome === 'duplicate';
  };
