import { decodeMessage } from '../../decoding/envelope.codec.js';
import type { PipelineStep } from '../delivery.context.js';

/** Turns the raw message into an envelope; malformed input throws a DecodeError (dead-letter). */
export const decodeStep =
  (maxBytes: number, now: () => Date = () => new Date()): PipelineStep =>
  async (context, next) => {
    context.envelope = decodeMessage(context.message, { maxBytes, now });
    context.data = context.envelope.data;
    await next();
  };
