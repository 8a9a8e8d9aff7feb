import type { BatchHandlerFn, EventHandlerFn } from '@tidings/core';
import type { OnEventMetadata } from '../decorators/on-event.decorator.js';

/** One `@OnEvent` method found at bootstrap, bound to its provider instance. */
export interface HandlerDescriptor extends OnEventMetadata {
  /** `ClassName.methodName`, for messages and logs. */
  readonly name: string;
  readonly className: string;
  readonly methodName: string;
  readonly handle: EventHandlerFn;
  /** The same method, called as a batch handler (`@OnEvent(..., { batch })`). */
  readonly handleBatch: BatchHandlerFn;
}
