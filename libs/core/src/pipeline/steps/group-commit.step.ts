import type { PipelineStep } from '../delivery.context.js';
import type { InboxGroupCommit } from '../group/inbox-group-commit.js';

/**
 * The group-commit form of the dedupe step: the rest of the pipeline runs inside this delivery's savepoint of a
 * transaction shared with the deliveries that arrived with it, at most once per (message id, subscription).
 */
export const groupCommitStep =
  (group: InboxGroupCommit): PipelineStep =>
  async (context, next) => {
    const envelope = context.envelope!;
    const outcome = await group.run({
      messageId: envelope.id,
      orderingKey: envelope.partitionkey,
      work: next,
    });
    context.duplicate = outcome === 'duplicate';
  };
