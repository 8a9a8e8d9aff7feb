import { validateEventData } from '../../events/event-data.validator.js';
import type { DeliveryContext, PipelineStep } from '../delivery.context.js';

/**
 * The validate step's work, without the step around it: a promise only when the handler's event has a schema, so
 * deliveries of events without one pass with no promise at all.
 */
export const validateContext = (context: DeliveryContext): Promise<void> | undefined => {
  const target = context.handler!.target;
  if (!('event' in target) || !target.event.schema) return undefined;
  return validateEventData(target.event.type, target.event.schema, context.data).then((data) => {
    context.data = data;
  });
};

/** Checks data against the handler's event schema, if it has one; a violation is non-retryable. */
export const validateStep: PipelineStep = async (context, next) => {
  await validateContext(context);
  await next();
};
