import type { PipelineStep } from '../delivery.context.js';
import type { InboxGroupCommit } from '../group/inbox-group-commit.js';

/**
 * Last step of a batch handler's subscription, in place of dedupe and invoke: the delivery joins a batch, and settles
 * when the batch (or, after a failed batch, its own one-event retry of it) has committed. It does not call `next`.
 */
export const batchStep =
  (group: InboxGroupCommit): PipelineStep =>
  async (context) => {
    const { envelope, message, subscription } = context;
    const outcome = await group.run({
      messageId: envelope!.id,
      orderingKey: envelope!.partitionkey,
      event: { data: context.data, context: { envelope: envelope!, attempt: message.attempt, subscription } },
    });
    context.duplicate = outcome === 'duplicate';
  };
