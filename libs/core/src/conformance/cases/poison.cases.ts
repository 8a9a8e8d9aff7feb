import { decodeMessage, encodeEnvelope } from '../../decoding/envelope.codec.js';
import { TEST_TIMEOUT_MS, type SuiteContext } from '../conformance.fixture.js';
import { Recorder } from '../recorder.js';

/** Messages no retry can fix: undecodable, invalid, of a type nobody handles. Dead-lettered at once; the consumer goes on. */
export function poisonCases({ api: { it, expect }, fixture }: SuiteContext): void {
  it(
    'dead-letters a malformed payload without calling the handler',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('raw.input');
      const calls = new Recorder('calls');
      const consumer = await fx.started('raw');
      const queue = await fx.subscribe(consumer, 'raw', { handlers: [fx.handler(Event, calls.record)] });

      // Attributes of a valid event, a body that is not JSON: what a broken foreign producer sends.
      const valid = encodeEnvelope(fx.envelope(Event, { ok: true }));
      await fx.target.publishRaw({ ...valid, contentType: 'application/json', body: new TextEncoder().encode('{"ok": tru') });
      const letter = await fx.firstDeadLetter(queue);
      const publisher = await fx.started('raw-publisher');
      const marker = await fx.publishOne(publisher, Event, { ok: true });
      await calls.waitForId(marker);

      expect(letter.reason).toMatchObject({
        code: 'TIDINGS_DECODE_FAILED',
        errorName: 'DecodeError',
        attempts: 1,
        routingKey: fx.type('raw.input'),
        subscription: queue,
      });
      expect(letter.message.attributes['id']).toBe(valid.attributes['id']);
      expect(calls.ids()).toEqual([marker]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'dead-letters an event that violates its schema without calling the handler',
    async () => {
      const fx = fixture();
      const requireTitle = (data: unknown): object => {
        if (typeof data !== 'object' || data === null || typeof (data as Record<string, unknown>)['title'] !== 'string') {
          throw new Error('title must be a string');
        }
        return data;
      };
      const Event = fx.defineEvent('checked.input', requireTitle);
      const calls = new Recorder('calls');
      const consumer = await fx.started('checked');
      const queue = await fx.subscribe(consumer, 'checked', { handlers: [fx.handler(Event, calls.record, { maxAttempts: 5 })] });
      const publisher = await fx.started('checked-publisher');

      const id = await fx.publishOne(publisher, Event, { title: 42 });
      const letter = await fx.firstDeadLetter(queue);
      const marker = await fx.publishOne(publisher, Event, { title: 'fine' });
      await calls.waitForId(marker);

      expect(letter.reason).toMatchObject({ code: 'TIDINGS_EVENT_INVALID', errorName: 'EventValidationError', attempts: 1 });
      expect(decodeMessage(letter.message).id).toBe(id);
      expect(calls.ids()).toEqual([marker]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'dead-letters an event type the subscription has no handler for, and keeps consuming',
    async () => {
      const fx = fixture();
      const Known = fx.defineEvent('catalog.item.added');
      const calls = new Recorder('calls');
      const consumer = await fx.started('catalog');
      const queue = await fx.subscribe(consumer, 'catalog', {
        patterns: [fx.type('catalog.#')],
        handlers: [fx.handler(Known, calls.record)],
      });
      const publisher = await fx.started('catalog-publisher');

      const stranger = await fx.publishOne(publisher, fx.type('catalog.item.removed'), { itemId: 'i-1' });
      const letter = await fx.firstDeadLetter(queue);
      const known = await fx.publishOne(publisher, Known, { itemId: 'i-2' });
      await calls.waitForId(known);

      expect(letter.reason).toMatchObject({
        code: 'TIDINGS_UNKNOWN_EVENT_TYPE',
        attempts: 1,
        routingKey: fx.type('catalog.item.removed'),
        subscription: queue,
      });
      expect(decodeMessage(letter.message).id).toBe(stranger);
      expect(calls.ids()).toEqual([known]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'dead-letters a message whose deliver function rejects (a bug), and keeps consuming',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('buggy.input');
      const calls = new Recorder('calls');
      const consumer = await fx.started('buggy');
      const queue = await fx.subscribe(consumer, 'buggy', {
        handlers: [fx.handler(Event, calls.record)],
        wrapDeliver: (deliver) => async (message) => {
          if (message.attributes['subject'] === 'explode') throw new RangeError('pipeline bug');
          return deliver(message);
        },
      });
      const publisher = await fx.started('buggy-publisher');

      const bad = fx.envelope(Event, { ok: false });
      await publisher.publish([{ ...bad, subject: 'explode' }]);
      const letter = await fx.firstDeadLetter(queue);
      const marker = await fx.publishOne(publisher, Event, { ok: true });
      await calls.waitForId(marker);

      expect(letter.reason).toMatchObject({
        code: 'TIDINGS_DELIVER_FAILED',
        errorName: 'RangeError',
        message: 'pipeline bug',
        attempts: 1,
        subscription: queue,
      });
      expect(letter.message.attributes['id']).toBe(bad.id);
      expect(calls.ids()).toEqual([marker]);
    },
    TEST_TIMEOUT_MS,
  );
}
