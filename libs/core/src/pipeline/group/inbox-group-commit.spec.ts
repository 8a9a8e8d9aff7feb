import { encodeEnvelope } from '../../decoding/envelope.codec.js';
import { createEnvelope } from '../../envelope/envelope.factory.js';
import { ConfigurationError } from '../../errors/configuration.error.js';
import { NonRetryableError } from '../../errors/non-retryable.error.js';
import { getEventDefinition, IntegrationEvent } from '../../events/integration-event.decorator.js';
import { ErrorClassifier } from '../../retry/error.classifier.js';
import { RetryPolicy } from '../../retry/retry.policy.js';
import type { DeliveryOutcome } from '../../transport/delivery-outcome.js';
import type { InboundMessage } from '../../transport/transport-message.js';
import type { BatchedEvent, HandlerBinding, HandlerBatch } from '../handler-binding.js';
import { HandlerPipeline, type DeliveryReport, type HandlerPipelineOptions } from '../handler.pipeline.js';
import type { InboxKey, InboxStore } from '../inbox.store.js';
import { DEFAULT_GROUP_COMMIT } from './group-commit.options.js';
import { InboxGroupCommit } from './inbox-group-commit.js';
import { TestGroupInbox } from './test-group-inbox.spec-helper.js';

const SUBSCRIPTION = 'notifications.answers';

@IntegrationEvent('qa.answer.added')
class AnswerAdded {
  declare readonly n: number;
}

const message = (n: number, init: { id?: string; partitionKey?: string } = {}): InboundMessage => ({
  ...encodeEnvelope(
    createEnvelope({
      type: 'qa.answer.added',
      version: 1,
      source: 'questions',
      id: init.id ?? `m-${n}`,
      ...(init.partitionKey !== undefined && { partitionKey: init.partitionKey }),
      data: { n },
    }),
  ),
  attempt: 1,
});

const binding = (handle: HandlerBinding['handle'], batch?: HandlerBatch): HandlerBinding => ({
  name: 'NotifyAsker.onAnswerAdded',
  target: { event: getEventDefinition(AnswerAdded) },
  handle,
  ...(batch && { batch }),
  retry: new RetryPolicy({ maxAttempts: 3, jitter: 0, tiersMs: [1000] }),
  classifier: new ErrorClassifier(),
});

const numberOf = (data: unknown): number => (data as { n: number }).n;

function pipeline(inbox: InboxStore, handlers: HandlerBinding[], options: Partial<HandlerPipelineOptions> = {}) {
  const reports: DeliveryReport[] = [];
  const p = new HandlerPipeline({ subscription: SUBSCRIPTION, handlers, inbox, onSettled: (r) => reports.push(r), ...options });
  return { deliver: p.deliver, reports };
}

const kinds = (outcomes: readonly DeliveryOutcome[]): string[] => outcomes.map((o) => o.kind);

describe('group commit through the inbox', () => {
  it('handles deliveries that arrive together in one transaction, each handler once, in arrival order', async () => {
    const inbox = new TestGroupInbox();
    const { deliver } = pipeline(inbox, [binding((data) => inbox.write(`effect ${numberOf(data)}`))]);
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map((n) => deliver(message(n))));
    expect(kinds(outcomes)).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
    expect(inbox.commits).toEqual([5]);
    expect(inbox.effects).toEqual(['effect 1', 'effect 2', 'effect 3', 'effect 4', 'effect 5']);
  });

  it('rolls back only the delivery whose handler threw: it retries, the others commit, and its redelivery runs again', async () => {
    const inbox = new TestGroupInbox();
    let failThree = true;
    const { deliver, reports } = pipeline(inbox, [
      binding((data) => {
        const n = numberOf(data);
        inbox.write(`effect ${n}`);
        if (n === 3 && failThree) throw new Error('downstream timed out');
      }),
    ]);
    const outcomes = await Promise.all([1, 2, 3, 4].map((n) => deliver(message(n))));
    expect(kinds(outcomes)).toEqual(['ack', 'ack', 'retry', 'ack']);
    expect(inbox.commits).toEqual([4]);
    expect(inbox.effects).toEqual(['effect 1', 'effect 2', 'effect 4']);
    expect(reports[2]?.error).toEqual(new Error('downstream timed out'));

    failThree = false;
    const again = await Promise.all([1, 3].map((n) => deliver({ ...message(n), attempt: 2 })));
    expect(kinds(again)).toEqual(['ack', 'ack']);
    expect(inbox.effects).toEqual(['effect 1', 'effect 2', 'effect 4', 'effect 3']);
    expect(reports.slice(4).map((r) => r.context.duplicate)).toEqual([true, false]);
  });

  it('dead-letters a deterministic failure in a group and acks the rest', async () => {
    const inbox = new TestGroupInbox();
    const { deliver } = pipeline(inbox, [
      binding((data) => {
        if (numberOf(data) === 2) throw new NonRetryableError('answer refers to nothing');
        inbox.write(`effect ${numberOf(data)}`);
      }),
    ]);
    const outcomes = await Promise.all([1, 2, 3].map((n) => deliver(message(n))));
    expect(kinds(outcomes)).toEqual(['ack', 'deadLetter', 'ack']);
    expect(inbox.effects).toEqual(['effect 1', 'effect 3']);
  });

  it('retries the whole group, with nothing applied, when the commit fails', async () => {
    const inbox = new TestGroupInbox();
    inbox.failNextCommit = true;
    const { deliver } = pipeline(inbox, [binding((data) => inbox.write(`effect ${numberOf(data)}`))]);
    const outcomes = await Promise.all([1, 2, 3].map((n) => deliver(message(n))));
    expect(kinds(outcomes)).toEqual(['retry', 'retry', 'retry']);
    expect(inbox.effects).toEqual([]);
    const again = await Promise.all([1, 2, 3].map((n) => deliver({ ...message(n), attempt: 2 })));
    expect(kinds(again)).toEqual(['ack', 'ack', 'ack']);
    expect(inbox.effects).toEqual(['effect 1', 'effect 2', 'effect 3']);
  });

  it('skips a message id seen before, in an earlier group or earlier in the same one', async () => {
    const inbox = new TestGroupInbox();
    const { deliver, reports } = pipeline(inbox, [binding((data) => inbox.write(`effect ${numberOf(data)}`))]);
    await deliver(message(1));
    const outcomes = await Promise.all([deliver(message(1)), deliver(message(2)), deliver(message(2))]);
    expect(kinds(outcomes)).toEqual(['ack', 'ack', 'ack']);
    expect(inbox.effects).toEqual(['effect 1', 'effect 2']);
    expect(reports.map((r) => r.context.duplicate)).toEqual([false, true, false, true]);
  });

  it('uses one transaction per delivery when group commit is off', async () => {
    const inbox = new TestGroupInbox();
    const { deliver } = pipeline(inbox, [binding((data) => inbox.write(`effect ${numberOf(data)}`))], { groupCommit: false });
    await Promise.all([1, 2, 3].map((n) => deliver(message(n))));
    expect(inbox.commits).toEqual([1, 1, 1]);
  });

  it('falls back to one transaction per delivery with an inbox that cannot group', async () => {
    const handled = new Set<string>();
    const plain: InboxStore = {
      runOnce: async (key: InboxKey, work) => {
        if (handled.has(key.messageId)) return false;
        await work();
        handled.add(key.messageId);
        return true;
      },
    };
    const seen: number[] = [];
    const { deliver } = pipeline(plain, [binding((data) => void seen.push(numberOf(data)))]);
    expect(kinds(await Promise.all([1, 2].map((n) => deliver(message(n)))))).toEqual(['ack', 'ack']);
    expect(seen).toEqual([1, 2]);
  });
});

describe('batch handlers', () => {
  const batchOf = (inbox: TestGroupInbox, calls: number[][], poison?: number): HandlerBatch => ({
    size: 10,
    handle: (events: readonly BatchedEvent[]) => {
      const ns = events.map((e) => numberOf(e.data));
      calls.push(ns);
      if (poison !== undefined && ns.includes(poison)) throw new NonRetryableError(`event ${poison} is poison`);
      for (const n of ns) inbox.write(`effect ${n}`);
    },
  });
  const neverCalled = (): never => {
    throw new Error('the single-event handler must not run for a batch handler');
  };

  it('calls the batch handler once for the deliveries that arrive together, with their data and contexts', async () => {
    const inbox = new TestGroupInbox();
    const calls: number[][] = [];
    let contexts: readonly BatchedEvent[] = [];
    const batch = batchOf(inbox, calls);
    const { deliver } = pipeline(inbox, [
      binding(neverCalled, {
        ...batch,
        handle: (events) => {
          contexts = events;
          return batch.handle(events);
        },
      }),
    ]);
    const outcomes = await Promise.all([1, 2, 3].map((n) => deliver(message(n))));
    expect(kinds(outcomes)).toEqual(['ack', 'ack', 'ack']);
    expect(calls).toEqual([[1, 2, 3]]);
    expect(contexts.map((e) => [e.context.envelope.id, e.context.subscription, e.context.attempt])).toEqual([
      ['m-1', SUBSCRIPTION, 1],
      ['m-2', SUBSCRIPTION, 1],
      ['m-3', SUBSCRIPTION, 1],
    ]);
    expect(inbox.effects).toEqual(['effect 1', 'effect 2', 'effect 3']);
  });

  it('gives only messages not handled before to the batch handler', async () => {
    const inbox = new TestGroupInbox();
    const calls: number[][] = [];
    const { deliver, reports } = pipeline(inbox, [binding(neverCalled, batchOf(inbox, calls))]);
    await Promise.all([1, 2].map((n) => deliver(message(n))));
    await Promise.all([1, 2, 3].map((n) => deliver(message(n))));
    expect(calls).toEqual([[1, 2], [3]]);
    expect(reports.map((r) => r.context.duplicate)).toEqual([false, false, true, true, false]);
  });

  it('when the batch fails, handles its deliveries one at a time: the poison one alone is dead-lettered', async () => {
    const inbox = new TestGroupInbox();
    const calls: number[][] = [];
    const { deliver } = pipeline(inbox, [binding(neverCalled, batchOf(inbox, calls, 3))]);
    const outcomes = await Promise.all([1, 2, 3, 4].map((n) => deliver(message(n))));
    expect(kinds(outcomes)).toEqual(['ack', 'ack', 'deadLetter', 'ack']);
    expect(calls).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
    expect(inbox.effects).toEqual(['effect 1', 'effect 2', 'effect 4']);
  });

  it('refuses a batch handler that shares its subscription, or an inbox that cannot batch', () => {
    const inbox = new TestGroupInbox();
    const batch = batchOf(inbox, []);
    expect(() => pipeline(inbox, [binding(neverCalled, batch), { ...binding(() => undefined), name: 'Other.handler' }])).toThrow(
      ConfigurationError,
    );
    const plain: InboxStore = { runOnce: async () => true };
    expect(() => pipeline(plain, [binding(neverCalled, batch)])).toThrow(
      'Batch handler NotifyAsker.onAnswerAdded (subscription notifications.answers) needs an inbox that handles batches (runBatch and runGroup)',
    );
  });

  it('refuses a delivery with neither work nor, beside a batch handler, an event', async () => {
    const group = new InboxGroupCommit(new TestGroupInbox(), SUBSCRIPTION, DEFAULT_GROUP_COMMIT);
    await expect(group.run({ messageId: 'm-1', event: { data: {}, context: {} as BatchedEvent['context'] } })).rejects.toThrow(
      new ConfigurationError(`Delivery m-1 joined group commit of ${SUBSCRIPTION} with neither work nor a batch event`, ''),
    );
  });
});
