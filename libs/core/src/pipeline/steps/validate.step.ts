import { validateEventData } from '../../events/event-data.validator.js';
import type { PipelineStep } from '../delivery.context.js';

/** Checks data against the handler's event schema, if it has one; a violation is non-retryable. */
export const validateStep: PipelineStep = async (context, next) => {
  const target = context.handler!.target;
  if ('event' in target && target.event.schema) {
    context.data = await validateEventData(target.event.type, target.event.schema, context.data);
  }
  await next();
};
