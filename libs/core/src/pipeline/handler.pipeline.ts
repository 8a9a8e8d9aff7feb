import { DEFAULT_MAX_MESSAGE_BYTES } from '../decoding/safe-json.js';
import { ConfigurationError } from '../errors/configuration.error.js';
import { TidingsError } from '../errors/tidings.error.js';
import { ErrorClassifier } from '../retry/error.classifier.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import { deadLetterReason } from '../transport/delivery-failure.js';
import type { DeliveryOutcome } from '../transport/delivery-outcome.js';
import type { InboundMessage } from '../transport/transport-message.js';
import type { DeliveryContext, PipelineStep } from './delivery.context.js';
import type { HandlerBinding } from './handler-binding.js';
import {
  DEFAULT_GROUP_COMMIT,
  resolveBatchOptions,
  resolveGroupCommitOptions,
  type GroupCommitOptions,
} from './group/group-commit.options.js';
import { InboxGroupCommit } from './group/inbox-group-commit.js';
import type { InboxStore } from './inbox.store.js';
import { batchStep } from './steps/batch.step.js';
import { decodeInto } from './steps/decode.step.js';
import { groupCommitStep } from './steps/group-commit.step.js';
import { dedupeStep } from './steps/dedupe.step.js';
import { dispatchInto } from './steps/dispatch.step.js';
import { invokeStep } from './steps/invoke.step.js';
import { validateContext } from './steps/validate.step.js';

/** What happened to one delivery; given to {@link HandlerPipelineOptions.onSettled}. */
export interface DeliveryReport {
  readonly subscription: string;
  readonly message: InboundMessage;
  readonly outcome: DeliveryOutcome;
  /** The pipeline state reached: `envelope` is missing when the message could not be decoded. */
  readonly context: Readonly<DeliveryContext>;
  /** The failure, when the outcome is not `ack`. */
  readonly error?: unknown;
}

/** Options of a {@link HandlerPipeline}. */
export interface HandlerPipelineOptions {
  /** Subscription (queue) name; also the inbox consumer identity. */
  readonly subscription: string;
  /** The handlers sharing this subscription, dispatched by event type. */
  readonly handlers: readonly HandlerBinding[];
  /** Largest accepted body. @default 1 MiB */
  readonly maxMessageBytes?: number;
  /** When set, each message is handled at most once per subscription (inbox). */
  readonly inbox?: InboxStore;
  /**
   * Group commit through the inbox: deliveries that arrive together share one transaction, each in its own savepoint.
   * `false` for one transaction per delivery. Ignored without an inbox, and when the inbox cannot (no `runGroup`).
   * @default on, with {@link DEFAULT_GROUP_COMMIT}
   */
  readonly groupCommit?: GroupCommitOptions | false;
  /** Steps run after validation and deduplication, just before the handler (tracing, metrics...). */
  readonly middleware?: readonly PipelineStep[];
  /** Policy for failures before a handler is known (decode, unknown type). @default new RetryPolicy() */
  readonly retry?: RetryPolicy;
  /** Called once per delivery with its outcome (logging, metrics, test harnesses). Must not throw. */
  readonly onSettled?: (report: DeliveryReport) => void;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

const HANDLER_FAILED = 'TIDINGS_HANDLER_FAILED';
const ACK: DeliveryOutcome = Object.freeze({ kind: 'ack' });
const DONE: Promise<void> = Promise.resolve();

/**
 * decode → dispatch → validate → dedupe → middleware → handle, then an outcome. Handlers succeed by
 * returning and fail by throwing; the pipeline turns failures into `retry` or `deadLetter` using the
 * handler's {@link ErrorClassifier} and {@link RetryPolicy}. It never rejects.
 */
export class HandlerPipeline {
  /** Decode and dispatch run directly, validation too unless a schema makes it wait: no promise per step and delivery. */
  private readonly decode: (context: DeliveryContext) => void;
  private readonly dispatch: (context: DeliveryContext) => void;
  private readonly steps: readonly PipelineStep[];
  private readonly fallbackRetry: RetryPolicy;
  private readonly fallbackClassifier = new ErrorClassifier();
  private readonly clock: () => Date;

  constructor(private readonly options: HandlerPipelineOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.decode = decodeInto(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, this.clock);
    this.dispatch = dispatchInto(options.subscription, options.handlers);
    this.steps = this.handlingSteps();
    this.fallbackRetry = options.retry ?? new RetryPolicy();
  }

  /** After validation: dedupe (alone, or grouped), middleware and the handler; or middleware and a batch. */
  private handlingSteps(): PipelineStep[] {
    const { inbox, subscription, handlers, middleware = [] } = this.options;
    const batched = handlers.find((handler) => handler.batch);
    if (batched?.batch) {
      const where = `Batch handler ${batched.name} (subscription ${subscription})`;
      if (handlers.length > 1) {
        throw new ConfigurationError(
          `${where} shares its subscription with ${handlers.length - 1} other handler(s)`,
          'Give the batch handler a subscription of its own.',
          { subscription },
        );
      }
      if (!inbox?.runGroup || !inbox.runBatch) {
        throw new ConfigurationError(
          `${where} needs an inbox that handles batches (runBatch and runGroup)`,
          "Make the subscription transactional with an inbox such as TypeOrmInboxStore from '@tidings/typeorm'.",
          { subscription },
        );
      }
      const options = resolveBatchOptions(batched.batch, where);
      return [...middleware, batchStep(new InboxGroupCommit(inbox as Required<InboxStore>, subscription, options, batched.batch.handle))];
    }
    if (!inbox) return [...middleware, invokeStep];
    const grouping = this.options.groupCommit ?? {};
    if (grouping === false || !inbox.runGroup) return [dedupeStep(inbox), ...middleware, invokeStep];
    const options = resolveGroupCommitOptions(grouping, `Group commit of subscription ${subscription}`, DEFAULT_GROUP_COMMIT);
    return [groupCommitStep(new InboxGroupCommit(inbox as Required<InboxStore>, subscription, options)), ...middleware, invokeStep];
  }

  /** The `deliver` function to hand to `Transport.subscribe`. */
  readonly deliver = async (message: InboundMessage): Promise<DeliveryOutcome> => {
    const context: DeliveryContext = { subscription: this.options.subscription, message };
    let outcome: DeliveryOutcome;
    let failure: unknown;
    try {
      this.decode(context);
      this.dispatch(context);
      const validating = validateContext(context);
      if (validating) await validating;
      await this.run(context, 0);
      outcome = ACK;
    } catch (error) {
      failure = error;
      outcome = this.outcomeOf(context, error);
    }
    this.options.onSettled?.({
      subscription: context.subscription,
      message,
      outcome,
      context,
      ...(failure !== undefined && { error: failure }),
    });
    return outcome;
  };

  /** The steps from `index` on; not async itself, so a delivery pays for its steps' promises only. */
  private run(context: DeliveryContext, index: number): Promise<void> {
    const step = this.steps[index];
    return step ? step(context, () => this.run(context, index + 1)) : DONE;
  }

  private outcomeOf(context: DeliveryContext, error: unknown): DeliveryOutcome {
    const { message } = context;
    const classifier = context.handler?.classifier ?? this.fallbackClassifier;
    const retry = context.handler?.retry ?? this.fallbackRetry;
    const now = this.clock().toISOString();
    const reason = deadLetterReason(error instanceof TidingsError ? error.code : HANDLER_FAILED, error, message, context.subscription, now);
    if (classifier.classify(error) === 'retry') {
      const decision = retry.decide(message.attempt);
      if (decision.retry) {
        const { errorName, message: text, firstFailureAt } = reason;
        return { kind: 'retry', delayMs: decision.delayMs, failure: { errorName, message: text, at: now, firstFailureAt } };
      }
    }
    return { kind: 'deadLetter', reason };
  }
}
