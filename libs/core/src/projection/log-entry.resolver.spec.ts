import { encodeEnvelope } from '../decoding/envelope.codec.js';
import { createEnvelope } from '../envelope/envelope.factory.js';
import type { StandardSchemaV1 } from '../events/event-schema.js';
import { getEventDefinition, IntegrationEvent, type EventClass } from '../events/integration-event.decorator.js';
import type { LogEntry } from '../transport/event-log.js';
import type { OutboundMessage } from '../transport/transport-message.js';
import { LogEntryResolver, type ResolvedEntry } from './log-entry.resolver.js';
import type { ProjectionHandler } from './projection.definition.js';
import type { TestTx } from './projection-test-store.spec-helper.js';

// Version 1 had `name`; version 2 split it into `first`/`last`; version 3 added `grade` (default 1).
interface AskerV3 {
  readonly first: string;
  readonly last: string;
  readonly grade: number;
}

const askerSchema: StandardSchemaV1<unknown, AskerV3> = {
  '~standard': {
    version: 1,
    vendor: 'spec',
    validate: (value) => {
      const v = value as Partial<Record<keyof AskerV3, unknown>> | null;
      if (typeof v?.first !== 'string' || typeof v.last !== 'string') return { issues: [{ message: 'required', path: ['first'] }] };
      if (typeof v.grade !== 'number') return { issues: [{ message: 'must be a number', path: ['grade'] }] };
      return { value: { first: v.first, last: v.last, grade: v.grade } };
    },
  },
};

@IntegrationEvent('spec.asker.registered', {
  version: 3,
  schema: askerSchema,
  upcasters: {
    1: (data) => {
      const { name } = data as { name: unknown };
      if (typeof name !== 'string') throw new TypeError('name is missing');
      const [first = '', ...rest] = name.split(' ');
      return { first, last: rest.join(' ') };
    },
    2: (data) => ({ grade: 1, ...(data as object) }),
  },
})
class AskerRegistered implements AskerV3 {
  declare readonly first: string;
  declare readonly last: string;
  declare readonly grade: number;
}

// A function schema that trims the title: the handler gets the schema's output.
@IntegrationEvent('spec.note.added', {
  schema: (data) => {
    const { title } = data as { title: unknown };
    if (typeof title !== 'string') throw new Error('title must be a string');
    return { title: title.trim() };
  },
})
class NoteAdded {
  declare readonly title: string;
}

// Version 2 without upcasters: version 1 cannot be read.
@IntegrationEvent('spec.plain.changed', { version: 2 })
class PlainChanged {
  declare readonly value: number;
}

const validatorDown = new Error('schema registry unreachable');
@IntegrationEvent('spec.remote.checked', {
  schema: {
    '~standard': {
      version: 1,
      vendor: 'spec',
      validate: () => {
        throw validatorDown;
      },
    },
  },
})
class RemoteChecked {}

const handler = (event: EventClass): ProjectionHandler<TestTx> => ({
  name: `Spec.on${event.name}`,
  event: getEventDefinition(event),
  handle: () => undefined,
});

const handlers = [handler(AskerRegistered), handler(NoteAdded), handler(PlainChanged), handler(RemoteChecked)];
const resolver = new LogEntryResolver<TestTx>('spec', handlers);

const utf8 = new TextEncoder();
const messageOf = (type: string, data: unknown, version = 1, id = `id-${type}-${version}`): OutboundMessage =>
  encodeEnvelope(createEnvelope({ type, version, source: 'spec', data, id }));
const entry = (message: OutboundMessage, position = 7): LogEntry => ({ position, message: { ...message, attempt: 1 } });

function skippedOf(resolved: ResolvedEntry<TestTx>) {
  if (resolved.kind !== 'skipped') throw new Error(`expected a skipped entry, got ${resolved.kind}`);
  return resolved.skipped;
}

function eventOf(resolved: ResolvedEntry<TestTx>) {
  if (resolved.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(resolved)}`);
  return resolved;
}

describe('LogEntryResolver', () => {
  it('resolves an event of the current version to its handler, with its position and envelope', async () => {
    const message = messageOf('spec.asker.registered', { first: 'Ada', last: 'Lovelace', grade: 5 }, 3, 'e-1');
    const resolved = eventOf(await resolver.resolve(entry(message, 12)));
    expect(resolved.handler).toBe(handlers[0]);
    expect(resolved.event.position).toBe(12);
    expect(resolved.event.envelope).toMatchObject({
      id: 'e-1',
      type: 'spec.asker.registered',
      source: 'spec',
      dataversion: 3,
      data: { first: 'Ada', last: 'Lovelace', grade: 5 },
    });
  });

  it("hands over the schema's output, not the raw data", async () => {
    const resolved = eventOf(await resolver.resolve(entry(messageOf('spec.note.added', { title: '  Hello  ' }))));
    expect(resolved.event.envelope.data).toEqual({ title: 'Hello' });
  });

  it('ignores other types without decoding them', async () => {
    const garbage = { ...messageOf('billing.invoice.paid', {}), body: utf8.encode('{not json'), contentType: 'text/plain' };
    expect(await resolver.resolve(entry(garbage, 3))).toEqual({ kind: 'ignored', position: 3 });
    const noTypeAttribute = {
      routingKey: 'billing.invoice.paid',
      body: utf8.encode('{}'),
      contentType: 'application/json',
      attributes: {},
    };
    expect(await resolver.resolve(entry(noTypeAttribute, 4))).toEqual({ kind: 'ignored', position: 4 });
  });

  it('skips malformed JSON as TIDINGS_DECODE_FAILED, keeping the id and type from the attributes', async () => {
    const message = { ...messageOf('spec.note.added', {}, 1, 'bad-json'), body: utf8.encode('{"title": ') };
    expect(skippedOf(await resolver.resolve(entry(message, 9)))).toEqual({
      position: 9,
      eventId: 'bad-json',
      type: 'spec.note.added',
      code: 'TIDINGS_DECODE_FAILED',
      reason: expect.stringMatching(/^DecodeError: Message body is not valid JSON/),
    });
  });

  it('skips a message missing a required attribute as TIDINGS_DECODE_FAILED', async () => {
    const { source: _source, ...attributes } = messageOf('spec.note.added', { title: 'x' }, 1, 'no-source').attributes;
    const message = { ...messageOf('spec.note.added', { title: 'x' }), attributes };
    expect(skippedOf(await resolver.resolve(entry(message)))).toMatchObject({
      eventId: 'no-source',
      type: 'spec.note.added',
      code: 'TIDINGS_DECODE_FAILED',
      reason: expect.stringContaining("'source'"),
    });
  });

  it('skips a message whose type is only in the routing key (no id either) as TIDINGS_DECODE_FAILED', async () => {
    const message = { routingKey: 'spec.note.added', body: utf8.encode('{"title":"x"}'), contentType: 'application/json', attributes: {} };
    expect(skippedOf(await resolver.resolve(entry(message)))).toMatchObject({
      eventId: undefined,
      type: 'spec.note.added',
      code: 'TIDINGS_DECODE_FAILED',
    });
  });

  it('skips a body above maxBytes before parsing it', async () => {
    const small = new LogEntryResolver<TestTx>('spec', handlers, 16);
    const skipped = skippedOf(await small.resolve(entry(messageOf('spec.note.added', { title: 'a title longer than sixteen bytes' }))));
    expect(skipped.code).toBe('TIDINGS_PAYLOAD_TOO_LARGE');
  });

  it("skips data that violates the handler's schema with the validation code", async () => {
    const message = messageOf('spec.asker.registered', { first: 'Ada', last: 'Lovelace', grade: 'high' }, 3, 'invalid');
    expect(skippedOf(await resolver.resolve(entry(message, 5)))).toEqual({
      position: 5,
      eventId: 'invalid',
      type: 'spec.asker.registered',
      code: 'TIDINGS_EVENT_INVALID',
      reason: 'EventValidationError: Event spec.asker.registered failed validation: grade: must be a number',
    });
    const note = skippedOf(await resolver.resolve(entry(messageOf('spec.note.added', { title: 42 }))));
    expect(note.code).toBe('TIDINGS_EVENT_INVALID');
    expect(note.reason).toContain('title must be a string');
  });

  it("upcasts an old version: data in the new shape, dataversion the handler's", async () => {
    const v1 = eventOf(await resolver.resolve(entry(messageOf('spec.asker.registered', { name: 'Grace Brewster Hopper' }, 1, 'old'))));
    expect(v1.event.envelope).toMatchObject({ id: 'old', dataversion: 3, data: { first: 'Grace', last: 'Brewster Hopper', grade: 1 } });
    const v2 = eventOf(await resolver.resolve(entry(messageOf('spec.asker.registered', { first: 'Alan', last: 'Turing' }, 2))));
    expect(v2.event.envelope).toMatchObject({ dataversion: 3, data: { first: 'Alan', last: 'Turing', grade: 1 } });
  });

  it('validates the upcast data against the current schema', async () => {
    const skipped = skippedOf(await resolver.resolve(entry(messageOf('spec.asker.registered', { first: 'A', last: 'B', grade: 'x' }, 2))));
    expect(skipped.code).toBe('TIDINGS_EVENT_INVALID');
  });

  it('skips a version newer than the handler as TIDINGS_UNKNOWN_EVENT_TYPE', async () => {
    const skipped = skippedOf(
      await resolver.resolve(entry(messageOf('spec.asker.registered', { first: 'A', last: 'B', grade: 1 }, 4, 'v4'))),
    );
    expect(skipped).toMatchObject({ eventId: 'v4', type: 'spec.asker.registered', code: 'TIDINGS_UNKNOWN_EVENT_TYPE' });
    expect(skipped.reason).toContain('spec.asker.registered (version 4)');
    expect(skipped.reason).toContain('projection spec');
  });

  it('skips a version with no upcaster path to the handler as TIDINGS_UNKNOWN_EVENT_TYPE', async () => {
    const skipped = skippedOf(await resolver.resolve(entry(messageOf('spec.plain.changed', { value: 1 }, 1))));
    expect(skipped.code).toBe('TIDINGS_UNKNOWN_EVENT_TYPE');
    expect(eventOf(await resolver.resolve(entry(messageOf('spec.plain.changed', { value: 1 }, 2)))).event.envelope.data).toEqual({
      value: 1,
    });
  });

  it('skips an event whose upcaster throws as TIDINGS_UPCAST_FAILED', async () => {
    const skipped = skippedOf(await resolver.resolve(entry(messageOf('spec.asker.registered', { nom: 'Grace' }, 1, 'broken'))));
    expect(skipped).toMatchObject({ eventId: 'broken', type: 'spec.asker.registered', code: 'TIDINGS_UPCAST_FAILED' });
    expect(skipped.reason).toBe(
      'UpcastError: Upcasting event spec.asker.registered from version 1 to 2 failed: TypeError: name is missing',
    );
  });

  it('lets a validator that throws (not a verdict on the data) propagate, so the batch is tried again', async () => {
    await expect(resolver.resolve(entry(messageOf('spec.remote.checked', {})))).rejects.toBe(validatorDown);
  });
});
