import type { PipelineStep } from '../delivery.context.js';
import type { InboxStore } from '../inbox.store.js';

/** Runs the rest of the pipeline at most once per (message id, subscription) through the inbox. */
export const dedupeStep =
  (inbox: InboxStore): PipelineStep =>
  async (context, next) => {
    const ran = await inbox.runOnce({ messageId: context.envelope!.id, consumer: context.subscription }, next);
    context.duplicate = !ran;
  };
