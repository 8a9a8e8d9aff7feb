import { decodeMessage } from '../../decoding/envelope.codec.js';
import type { DeliveryContext, PipelineStep } from '../delivery.context.js';

/** The decode step's work, without the step around it (the pipeline runs it directly, with no promise per delivery). */
export const decodeInto =
  (maxBytes: number, now: () => Date = () => new Date()) =>
  (context: DeliveryContext): void => {
    context.envelope = decodeMessage(context.message, { maxBytes, now });
    context.data = context.envelope.data;
  };

/** Turns the raw message into an envelope; malformed input throws a DecodeError (dead-letter). */
export const decodeStep = (maxBytes: number, now: () => Date = () => new Date()): PipelineStep => {
  const decode = decodeInto(maxBytes, now);
  return async (context, next) => {
    decode(context);
    await next();
  };
};
