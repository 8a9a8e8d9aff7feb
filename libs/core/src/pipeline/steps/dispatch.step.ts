import { UnknownEventTypeError } from '../../errors/unknown-event-type.error.js';
import type { PipelineStep } from '../delivery.context.js';
import type { HandlerBinding } from '../handler-binding.js';

/**
 * Picks the one handler of the subscription for the envelope's type: a handler bound to the exact
 * type and version first, then one whose patterns match. None is an UnknownEventTypeError.
 */
export const dispatchStep = (subscription: string, handlers: readonly HandlerBinding[]): PipelineStep => {
  const known = handlers.map((h) =>
    'event' in h.target ? `${h.target.event.type}@${h.target.event.version}` : h.target.patterns.join(' | '),
  );
  return async (context, next) => {
    const { type, dataversion } = context.envelope!;
    const handler =
      handlers.find((h) => 'event' in h.target && h.target.event.type === type && h.target.event.version === dataversion) ??
      handlers.find((h) => 'patterns' in h.target && h.target.patterns.some((p) => p.matches(type)));
    if (!handler) throw new UnknownEventTypeError(type, dataversion, known, `subscription ${subscription}`);
    context.handler = handler;
    await next();
  };
};
