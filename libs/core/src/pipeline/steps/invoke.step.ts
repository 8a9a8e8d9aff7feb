import type { PipelineStep } from '../delivery.context.js';

/** Calls the handler. Last step: it does not call `next`. */
export const invokeStep: PipelineStep = async (context) => {
  await context.handler!.handle(context.data, {
    envelope: context.envelope!,
    attempt: context.message.attempt,
    subscription: context.subscription,
  });
};
