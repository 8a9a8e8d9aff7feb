import { UnknownEventTypeError } from '../../errors/unknown-event-type.error.js';
import { canUpcast, upcast } from '../../events/event-upcasting.js';
import type { DeliveryContext, PipelineStep } from '../delivery.context.js';
import type { HandlerBinding } from '../handler-binding.js';

/** The dispatch step's work, without the step around it (the pipeline runs it directly, with no promise per delivery). */
export const dispatchInto = (subscription: string, handlers: readonly HandlerBinding[]): ((context: DeliveryContext) => void) => {
  const known = handlers.map((h) =>
    'event' in h.target ? `${h.target.event.type}@${h.target.event.version}` : h.target.patterns.join(' | '),
  );
  return (context) => {
    const { type, dataversion } = context.envelope!;
    const bound = handlers.find(
      (h) =>
        'event' in h.target && h.target.event.type === type && canUpcast(h.target.event.upcasters, dataversion, h.target.event.version),
    );
    const handler = bound ?? handlers.find((h) => 'patterns' in h.target && h.target.patterns.some((p) => p.matches(type)));
    if (!handler) throw new UnknownEventTypeError(type, dataversion, known, `subscription ${subscription}`);
    context.handler = handler;
    if (bound && 'event' in bound.target && bound.target.event.version !== dataversion) {
      const { upcasters, version } = bound.target.event;
      context.data = upcast(type, upcasters, context.data, dataversion, version);
    }
  };
};

/**
 * Picks the one handler of the subscription for the envelope's type: a handler bound to the type at
 * that version, or at a later one it can upcast to, first; then one whose patterns match. None is an
 * UnknownEventTypeError. An older version's data is upcast here, before validation.
 */
export const dispatchStep = (subscription: string, handlers: readonly HandlerBinding[]): PipelineStep => {
  const dispatch = dispatchInto(subscription, handlers);
  return async (context, next) => {
    dispatch(context);
    await next();
  };
};
