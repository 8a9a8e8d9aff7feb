import type { Envelope } from '../envelope/envelope.js';
import type { InboundMessage } from '../transport/transport-message.js';
import type { HandlerBinding } from './handler-binding.js';

/** State one delivery accumulates as it passes the pipeline's steps. */
export interface DeliveryContext {
  readonly subscription: string;
  readonly message: InboundMessage;
  /** Set by the decode step. */
  envelope?: Envelope;
  /** Set by the dispatch step. */
  handler?: HandlerBinding;
  /** The data the handler receives; set by decode, possibly replaced by validate. */
  data?: unknown;
  /** Set by the dedupe step when the inbox already held this message. */
  duplicate?: boolean;
}

/** One step of the pipeline, middleware-style: do work, call `next()` to continue, throw to fail. */
export type PipelineStep = (context: DeliveryContext, next: () => Promise<void>) => Promise<void>;
