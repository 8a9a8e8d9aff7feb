import { encodeEnvelope } from '../decoding/envelope.codec.js';
import { createEnvelope, type EnvelopeInit } from '../envelope/envelope.factory.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { RetryableError } from '../errors/retryable.error.js';
import type { StandardSchemaV1 } from '../events/event-schema.js';
import { getEventDefinition, IntegrationEvent } from '../events/integration-event.decorator.js';
import { ErrorClassifier } from '../retry/error.classifier.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import { TopicPattern } from '../topic/topic-pattern.js';
import type { DeliveryOutcome } from '../transport/delivery-outcome.js';
import type { InboundMessage } from '../transport/transport-message.js';
import type { PipelineStep } from './delivery.context.js';
import type { EventContext } from './event-context.js';
import type { HandlerBinding } from './handler-binding.js';
import { HandlerPipeline, type DeliveryReport, type HandlerPipelineOptions } from './handler.pipeline.js';
import type { InboxKey, InboxStore } from './inbox.store.js';

const SUBSCRIPTION = 'notifications.answers';
const NOW = '2024-05-01T10:00:00.000Z';
const EARLIER = '2024-05-01T09:00:00.000Z';
const clock = (): Date => new Date(NOW);

interface AnswerData {
  readonly answerId: string;
  readonly text: string;
}

/** Requires `answerId` and `text` strings; upper-cases the text to prove handlers get the output. */
const answerSchema: StandardSchemaV1<unknown, AnswerData> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => {
      const v = value as Partial<Record<keyof AnswerData, unknown>> | null;
      if (typeof v?.answerId !== 'string') return { issues: [{ message: 'required', path: ['answerId'] }] };
      if (typeof v.text !== 'string') return { issues: [{ message: 'must be a string', path: ['text'] }] };
      return { value: { answerId: v.answerId, text: v.text.toUpperCase() } };
    },
  },
};

@IntegrationEvent('qa.answer.added', { version: 1, schema: answerSchema })
class AnswerAdded implements AnswerData {
  declare readonly answerId: string;
  declare readonly text: string;
}

@IntegrationEvent('qa.answer.added', { version: 2 })
class AnswerAddedV2 {}

@IntegrationEvent('qa.question.asked')
class QuestionAsked {}

class DriverTimeout extends Error {
  override readonly name = 'DriverTimeout';
}
class StaleRead extends NonRetryableError {}

/** Handler policy with recognisable tiers: 1st retry → 250 ms, 2nd → 5000 ms. */
const handlerRetry = (): RetryPolicy =>
  new RetryPolicy({ maxAttempts: 3, initialDelayMs: 200, multiplier: 20, maxDelayMs: 10_000, jitter: 0, tiersMs: [250, 5000] });

interface Call {
  readonly data: unknown;
  readonly context: EventContext;
}

/** A handler binding that records its calls and runs `behaviour` (throw to fail). */
function recordingHandler(
  overrides: Partial<HandlerBinding> = {},
  behaviour: (data: unknown, context: EventContext) => unknown = () => undefined,
): HandlerBinding & { readonly calls: Call[] } {
  const calls: Call[] = [];
  return {
    name: 'NotifyAsker.onAnswerAdded',
    target: { event: getEventDefinition(AnswerAdded) },
    retry: handlerRetry(),
    classifier: new ErrorClassifier(),
    ...overrides,
    calls,
    handle: (data, context) => {
      calls.push({ data, context });
      return behaviour(data, context);
    },
  };
}

const throwing =
  (error: unknown): (() => never) =>
  () => {
    throw error;
  };

const answerEnvelope = (init: Partial<EnvelopeInit<unknown>> = {}) =>
  createEnvelope<unknown>({
    type: 'qa.answer.added',
    version: 1,
    source: 'questions',
    id: '0b7f5a8e-2a4c-4c1e-9d6b-3f1e2d4c5b6a',
    time: new Date(EARLIER),
    partitionKey: 'q-7',
    data: { answerId: 'a-1', text: 'hello' },
    ...init,
  });

const inbound = (init: Partial<EnvelopeInit<unknown>> = {}, extra: Partial<InboundMessage> = {}): InboundMessage => ({
  ...encodeEnvelope(answerEnvelope(init)),
  attempt: 1,
  ...extra,
});

const pipelineOf = (handlers: HandlerBinding[], options: Partial<HandlerPipelineOptions> = {}): HandlerPipeline =>
  new HandlerPipeline({ subscription: SUBSCRIPTION, handlers, clock, retry: new RetryPolicy({ tiersMs: [7000] }), ...options });

/** An in-memory inbox that records a key only once its work succeeded (as a rolled-back transaction would). */
class FakeInbox implements InboxStore {
  readonly recorded = new Set<string>();
  readonly keys: InboxKey[] = [];

  async runOnce(key: InboxKey, work: () => Promise<void>): Promise<boolean> {
    this.keys.push(key);
    const id = `${key.consumer}/${key.messageId}`;
    if (this.recorded.has(id)) return false;
    await work();
    this.recorded.add(id);
    return true;
  }
}

const deadLetterOf = (outcome: DeliveryOutcome) => {
  if (outcome.kind !== 'deadLetter') throw new Error(`expected deadLetter, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
};

describe('HandlerPipeline', () => {
  describe('success', () => {
    it('gives the handler the data and its context, then acks', async () => {
      const handler = recordingHandler();
      const message = inbound({}, { attempt: 2, failures: { firstFailureAt: EARLIER, lastError: 'Error' } });

      await expect(pipelineOf([handler]).deliver(message)).resolves.toEqual({ kind: 'ack' });

      expect(handler.calls).toHaveLength(1);
      const [call] = handler.calls;
      expect(call?.data).toEqual({ answerId: 'a-1', text: 'HELLO' }); // the schema's output
      expect(call?.context).toEqual({
        envelope: { ...answerEnvelope(), data: { answerId: 'a-1', text: 'hello' } },
        attempt: 2,
        subscription: SUBSCRIPTION,
      });
    });

    it("gives a foreign event without 'time' the pipeline clock's time", async () => {
      const handler = recordingHandler();
      const document = {
        specversion: '1.0',
        id: 'foreign-1',
        type: 'qa.answer.added',
        source: 'php-app',
        data: { answerId: 'a-1', text: 'hi' },
      };
      const message: InboundMessage = {
        routingKey: 'qa.answer.added',
        contentType: 'application/cloudevents+json',
        attributes: {},
        body: new TextEncoder().encode(JSON.stringify(document)),
        attempt: 1,
      };

      await expect(pipelineOf([handler]).deliver(message)).resolves.toEqual({ kind: 'ack' });
      expect(handler.calls[0]?.context.envelope.time).toBe(NOW);
    });

    it('awaits an async handler before acking', async () => {
      const order: string[] = [];
      const handler = recordingHandler({}, async () => {
        await Promise.resolve();
        order.push('handled');
      });
      const outcome = await pipelineOf([handler]).deliver(inbound());
      order.push('settled');
      expect(outcome).toEqual({ kind: 'ack' });
      expect(order).toEqual(['handled', 'settled']);
    });
  });

  describe('dispatch', () => {
    it('prefers the exact type and version over a pattern, whatever the order', async () => {
      const catchAll = recordingHandler({ name: 'Audit.all', target: { patterns: [TopicPattern.parse('qa.#')] } });
      const exact = recordingHandler();
      await expect(pipelineOf([catchAll, exact]).deliver(inbound())).resolves.toEqual({ kind: 'ack' });
      expect(exact.calls).toHaveLength(1);
      expect(catchAll.calls).toHaveLength(0);
    });

    it('picks the handler of the message version', async () => {
      const v1 = recordingHandler();
      const v2 = recordingHandler({ target: { event: getEventDefinition(AnswerAddedV2) } });
      await pipelineOf([v1, v2]).deliver(inbound({ version: 2, data: { anything: true } }));
      expect(v1.calls).toHaveLength(0);
      expect(v2.calls.map((c) => c.data)).toEqual([{ anything: true }]);
    });

    it('gives a pattern handler the types its patterns match', async () => {
      const catchAll = recordingHandler({ name: 'Audit.all', target: { patterns: [TopicPattern.parse('qa.#')] } });
      const pipeline = pipelineOf([recordingHandler(), catchAll]);
      await expect(pipeline.deliver(inbound({ type: 'qa.question.asked', data: { q: 1 } }))).resolves.toEqual({ kind: 'ack' });
      await expect(pipeline.deliver(inbound({ type: 'qa.answer.added', version: 5, data: 'raw' }))).resolves.toEqual({ kind: 'ack' });
      expect(catchAll.calls.map((c) => [c.context.envelope.type, c.data])).toEqual([
        ['qa.question.asked', { q: 1 }],
        ['qa.answer.added', 'raw'],
      ]);
    });

    it('dead-letters a type no handler takes, without calling any handler', async () => {
      const handler = recordingHandler();
      const other = recordingHandler({ target: { patterns: [TopicPattern.parse('billing.*')] } });
      const outcome = await pipelineOf([handler, other]).deliver(inbound({ type: 'qa.question.asked', version: 1 }));
      expect(deadLetterOf(outcome)).toEqual({
        code: 'TIDINGS_UNKNOWN_EVENT_TYPE',
        errorName: 'UnknownEventTypeError',
        message: `No handler or event class for qa.question.asked (version 1) in subscription ${SUBSCRIPTION}`,
        attempts: 1,
        firstFailureAt: NOW,
        lastFailureAt: NOW,
        routingKey: 'qa.question.asked',
        subscription: SUBSCRIPTION,
      });
      expect(handler.calls).toHaveLength(0);
      expect(other.calls).toHaveLength(0);
    });

    it('dead-letters a version no handler takes', async () => {
      const handler = recordingHandler();
      const outcome = await pipelineOf([handler]).deliver(inbound({ version: 3 }));
      expect(deadLetterOf(outcome).code).toBe('TIDINGS_UNKNOWN_EVENT_TYPE');
      expect(handler.calls).toHaveLength(0);
    });
  });

  describe('decoding and validation failures dead-letter at once', () => {
    it('malformed JSON', async () => {
      const handler = recordingHandler();
      const message: InboundMessage = { ...inbound(), body: new TextEncoder().encode('{"answerId": ') };
      const reason = deadLetterOf(await pipelineOf([handler]).deliver(message));
      expect(reason).toMatchObject({ code: 'TIDINGS_DECODE_FAILED', errorName: 'DecodeError', attempts: 1, routingKey: 'qa.answer.added' });
      expect(reason.message).toMatch(/^Message body is not valid JSON/);
      expect(handler.calls).toHaveLength(0);
    });

    it('missing attributes', async () => {
      const { id: _id, ...attributes } = inbound().attributes;
      const reason = deadLetterOf(await pipelineOf([recordingHandler()]).deliver({ ...inbound(), attributes }));
      expect(reason.code).toBe('TIDINGS_DECODE_FAILED');
      expect(reason.message).toContain("'id'");
    });

    it('an oversized body', async () => {
      const handler = recordingHandler();
      const message = inbound({ data: { answerId: 'a-1', text: 'x'.repeat(100) } });
      const reason = deadLetterOf(await pipelineOf([handler], { maxMessageBytes: 64 }).deliver(message));
      expect(reason).toMatchObject({ code: 'TIDINGS_PAYLOAD_TOO_LARGE', errorName: 'PayloadTooLargeError', attempts: 1 });
      expect(reason.message).toBe(`Message body is ${message.body.byteLength} bytes, above the limit of 64 bytes`);
      expect(handler.calls).toHaveLength(0);
    });

    it('data violating the schema', async () => {
      const handler = recordingHandler();
      const reason = deadLetterOf(await pipelineOf([handler]).deliver(inbound({ data: { answerId: 'a-1', text: 42 } })));
      expect(reason).toEqual({
        code: 'TIDINGS_EVENT_INVALID',
        errorName: 'EventValidationError',
        message: 'Event qa.answer.added failed validation: text: must be a string',
        attempts: 1,
        firstFailureAt: NOW,
        lastFailureAt: NOW,
        routingKey: 'qa.answer.added',
        subscription: SUBSCRIPTION,
      });
      expect(handler.calls).toHaveLength(0);
    });

    it('even when the transport counts a later attempt', async () => {
      const message = {
        ...inbound(),
        body: new TextEncoder().encode('nope'),
        attempt: 2,
        failures: { firstFailureAt: EARLIER, lastError: 'X' },
      };
      const reason = deadLetterOf(await pipelineOf([recordingHandler()]).deliver(message));
      expect(reason).toMatchObject({ code: 'TIDINGS_DECODE_FAILED', attempts: 2, firstFailureAt: EARLIER, lastFailureAt: NOW });
    });
  });

  describe('handler failures', () => {
    it('retries a plain Error with a delay from the handler policy', async () => {
      const handler = recordingHandler({}, throwing(new Error('database unavailable')));
      const outcome = await pipelineOf([handler]).deliver(inbound());
      expect(outcome).toEqual({
        kind: 'retry',
        delayMs: 250,
        failure: { errorName: 'Error', message: 'database unavailable', at: NOW, firstFailureAt: NOW },
      });
      expect(handler.calls).toHaveLength(1);
    });

    it('keeps the first failure time across retries', async () => {
      const handler = recordingHandler({}, throwing(new DriverTimeout('slow')));
      const outcome = await pipelineOf([handler]).deliver(
        inbound({}, { attempt: 2, failures: { firstFailureAt: EARLIER, lastError: 'DriverTimeout' } }),
      );
      expect(outcome).toEqual({
        kind: 'retry',
        delayMs: 5000,
        failure: { errorName: 'DriverTimeout', message: 'slow', at: NOW, firstFailureAt: EARLIER },
      });
    });

    it('dead-letters on the last attempt with the whole history', async () => {
      const handler = recordingHandler({}, throwing(new Error('database unavailable')));
      const outcome = await pipelineOf([handler]).deliver(
        inbound({}, { attempt: 3, failures: { firstFailureAt: EARLIER, lastError: 'Error' } }),
      );
      expect(outcome).toEqual({
        kind: 'deadLetter',
        reason: {
          code: 'TIDINGS_HANDLER_FAILED',
          errorName: 'Error',
          message: 'database unavailable',
          attempts: 3,
          firstFailureAt: EARLIER,
          lastFailureAt: NOW,
          routingKey: 'qa.answer.added',
          subscription: SUBSCRIPTION,
        },
      });
    });

    it('uses the code of a Tidings error that ran out of attempts', async () => {
      const handler = recordingHandler({}, throwing(new RetryableError('try later')));
      const pipeline = pipelineOf([handler]);
      expect((await pipeline.deliver(inbound())).kind).toBe('retry');
      const reason = deadLetterOf(await pipeline.deliver(inbound({}, { attempt: 3 })));
      expect(reason).toMatchObject({ code: 'TIDINGS_RETRYABLE', errorName: 'RetryableError', attempts: 3 });
    });

    it('reports a thrown non-Error', async () => {
      const handler = recordingHandler({ retry: new RetryPolicy({ maxAttempts: 1 }) }, throwing('plain string'));
      const reason = deadLetterOf(await pipelineOf([handler]).deliver(inbound()));
      expect(reason).toMatchObject({ code: 'TIDINGS_HANDLER_FAILED', errorName: 'string', message: 'plain string', attempts: 1 });
    });

    it('dead-letters a NonRetryableError on the first attempt', async () => {
      const handler = recordingHandler({}, throwing(new NonRetryableError('question deleted')));
      const reason = deadLetterOf(await pipelineOf([handler]).deliver(inbound()));
      expect(reason).toEqual({
        code: 'TIDINGS_NON_RETRYABLE',
        errorName: 'NonRetryableError',
        message: 'question deleted',
        attempts: 1,
        firstFailureAt: NOW,
        lastFailureAt: NOW,
        routingKey: 'qa.answer.added',
        subscription: SUBSCRIPTION,
      });
    });

    it("honours the handler's deadLetterOn", async () => {
      const handler = recordingHandler(
        { classifier: new ErrorClassifier({ deadLetterOn: [DriverTimeout] }) },
        throwing(new DriverTimeout('slow')),
      );
      const reason = deadLetterOf(await pipelineOf([handler]).deliver(inbound()));
      expect(reason).toMatchObject({ code: 'TIDINGS_HANDLER_FAILED', errorName: 'DriverTimeout', attempts: 1 });
    });

    it("honours the handler's retryOn", async () => {
      const handler = recordingHandler(
        { classifier: new ErrorClassifier({ retryOn: [StaleRead] }) },
        throwing(new StaleRead('replica behind')),
      );
      expect(await pipelineOf([handler]).deliver(inbound())).toEqual({
        kind: 'retry',
        delayMs: 250,
        failure: { errorName: 'StaleRead', message: 'replica behind', at: NOW, firstFailureAt: NOW },
      });
    });

    it("uses the handler's policy, not the pipeline's, once a handler is known", async () => {
      const handler = recordingHandler({ retry: new RetryPolicy({ jitter: 0, tiersMs: [123] }) }, throwing(new Error('x')));
      const outcome = await pipelineOf([handler], { retry: new RetryPolicy({ tiersMs: [7000] }) }).deliver(inbound());
      expect(outcome).toMatchObject({ kind: 'retry', delayMs: 123 });
    });

    it('never rejects, whatever the handler throws', async () => {
      const handler = recordingHandler({}, () => Promise.reject(undefined));
      await expect(pipelineOf([handler]).deliver(inbound())).resolves.toMatchObject({ kind: 'retry' });
    });
  });

  describe('inbox', () => {
    it('handles a redelivered message once and acks both deliveries', async () => {
      const inbox = new FakeInbox();
      const handler = recordingHandler();
      const pipeline = pipelineOf([handler], { inbox });
      await expect(pipeline.deliver(inbound())).resolves.toEqual({ kind: 'ack' });
      await expect(pipeline.deliver(inbound({}, { attempt: 2 }))).resolves.toEqual({ kind: 'ack' });
      expect(handler.calls).toHaveLength(1);
      expect(inbox.keys).toEqual([
        { messageId: '0b7f5a8e-2a4c-4c1e-9d6b-3f1e2d4c5b6a', consumer: SUBSCRIPTION },
        { messageId: '0b7f5a8e-2a4c-4c1e-9d6b-3f1e2d4c5b6a', consumer: SUBSCRIPTION },
      ]);
    });

    it('handles different messages separately', async () => {
      const handler = recordingHandler();
      const pipeline = pipelineOf([handler], { inbox: new FakeInbox() });
      await pipeline.deliver(inbound({ id: 'id-1' }));
      await pipeline.deliver(inbound({ id: 'id-2' }));
      expect(handler.calls.map((c) => c.context.envelope.id)).toEqual(['id-1', 'id-2']);
    });

    it('does not record a failed handling, so the retry runs the handler again', async () => {
      const inbox = new FakeInbox();
      let fail = true;
      const handler = recordingHandler({}, () => {
        if (fail) throw new Error('transient');
      });
      const pipeline = pipelineOf([handler], { inbox });

      expect((await pipeline.deliver(inbound())).kind).toBe('retry');
      expect(inbox.recorded.size).toBe(0);

      fail = false;
      await expect(pipeline.deliver(inbound({}, { attempt: 2 }))).resolves.toEqual({ kind: 'ack' });
      await expect(pipeline.deliver(inbound({}, { attempt: 3 }))).resolves.toEqual({ kind: 'ack' });
      expect(handler.calls.map((c) => c.context.attempt)).toEqual([1, 2]);
    });

    it('is consulted only for valid, dispatchable messages', async () => {
      const inbox = new FakeInbox();
      const pipeline = pipelineOf([recordingHandler()], { inbox });
      await pipeline.deliver(inbound({ data: { answerId: 1 } }));
      await pipeline.deliver(inbound({ type: 'qa.unknown' }));
      expect(inbox.keys).toEqual([]);
    });
  });

  describe('middleware', () => {
    it('runs in order before the handler and sees the delivery', async () => {
      const seen: unknown[] = [];
      const step =
        (name: string): PipelineStep =>
        async (context, next) => {
          seen.push([name, context.envelope?.id, context.handler?.name, context.data]);
          await next();
          seen.push(`${name} after`);
        };
      const handler = recordingHandler({}, () => void seen.push('handler'));
      await expect(pipelineOf([handler], { middleware: [step('first'), step('second')] }).deliver(inbound())).resolves.toEqual({
        kind: 'ack',
      });
      const id = answerEnvelope().id;
      expect(seen).toEqual([
        ['first', id, 'NotifyAsker.onAnswerAdded', { answerId: 'a-1', text: 'HELLO' }],
        ['second', id, 'NotifyAsker.onAnswerAdded', { answerId: 'a-1', text: 'HELLO' }],
        'handler',
        'second after',
        'first after',
      ]);
    });

    it('can fail the delivery', async () => {
      const handler = recordingHandler();
      const refuse: PipelineStep = async () => {
        throw new NonRetryableError('refused by middleware');
      };
      const reason = deadLetterOf(await pipelineOf([handler], { middleware: [refuse] }).deliver(inbound()));
      expect(reason.message).toBe('refused by middleware');
      expect(handler.calls).toHaveLength(0);
    });

    it('does not run for a duplicate', async () => {
      let runs = 0;
      const count: PipelineStep = async (_context, next) => {
        runs++;
        await next();
      };
      const pipeline = pipelineOf([recordingHandler()], { inbox: new FakeInbox(), middleware: [count] });
      await pipeline.deliver(inbound());
      await pipeline.deliver(inbound());
      expect(runs).toBe(1);
    });
  });

  describe('onSettled', () => {
    it('is called once per delivery with the outcome and, on failure, the error', async () => {
      const reports: DeliveryReport[] = [];
      const failure = new Error('boom');
      let fail = false;
      const handler = recordingHandler({}, () => {
        if (fail) throw failure;
      });
      const pipeline = pipelineOf([handler], { onSettled: (report) => reports.push(report) });

      const acked = await pipeline.deliver(inbound());
      expect(reports).toHaveLength(1);
      expect(reports[0]?.outcome).toBe(acked);
      expect(reports[0]).not.toHaveProperty('error');
      expect(reports[0]).toMatchObject({ subscription: SUBSCRIPTION, outcome: { kind: 'ack' } });
      expect(reports[0]?.context.envelope?.id).toBe(answerEnvelope().id);

      fail = true;
      const message = inbound();
      const retried = await pipeline.deliver(message);
      expect(reports).toHaveLength(2);
      expect(reports[1]?.outcome).toBe(retried);
      expect(reports[1]?.error).toBe(failure);
      expect(reports[1]?.message).toBe(message);
    });

    it('reports an undecodable message without an envelope', async () => {
      const reports: DeliveryReport[] = [];
      const message = { ...inbound(), body: new TextEncoder().encode('') };
      const outcome = await pipelineOf([recordingHandler()], { onSettled: (report) => reports.push(report) }).deliver(message);
      expect(reports).toHaveLength(1);
      expect(reports[0]?.outcome).toBe(outcome);
      expect(reports[0]?.context.envelope).toBeUndefined();
      expect(reports[0]?.error).toBeInstanceOf(Error);
      expect((reports[0]?.error as Error).name).toBe('DecodeError');
    });

    it('marks a duplicate', async () => {
      const reports: DeliveryReport[] = [];
      const pipeline = pipelineOf([recordingHandler()], { inbox: new FakeInbox(), onSettled: (report) => reports.push(report) });
      await pipeline.deliver(inbound());
      await pipeline.deliver(inbound());
      expect(reports.map((r) => [r.outcome.kind, r.context.duplicate])).toEqual([
        ['ack', false],
        ['ack', true],
      ]);
    });
  });

  it('shares no state between pipelines', async () => {
    const inbox = new FakeInbox();
    const first = recordingHandler();
    const second = recordingHandler({ target: { event: getEventDefinition(QuestionAsked) } });
    await pipelineOf([first], { inbox }).deliver(inbound());
    await pipelineOf([second], { subscription: 'other', inbox }).deliver(inbound({ type: 'qa.question.asked' }));
    expect(inbox.keys.map((k) => k.consumer)).toEqual([SUBSCRIPTION, 'other']);
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(1);
  });
});
