import { encodeEnvelope } from '../decoding/envelope.codec.js';
import { createEnvelope } from '../envelope/envelope.factory.js';
import { ConfigurationError } from '../errors/configuration.error.js';
import { HandlerPipeline } from '../pipeline/handler.pipeline.js';
import type { HandlerBinding } from '../pipeline/handler-binding.js';
import { ErrorClassifier } from '../retry/error.classifier.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import type { DeliveryOutcome } from '../transport/delivery-outcome.js';
import type { StandardSchemaV1 } from './event-schema.js';
import { canUpcast, upcast, UpcastError } from './event-upcasting.js';
import { getEventDefinition, IntegrationEvent } from './integration-event.decorator.js';

// Version 1 had `name`; version 2 split it into `first`/`last`; version 3 added `grade` (default 1).
interface AskerV3 {
  readonly first: string;
  readonly last: string;
  readonly grade: number;
}

const v3Schema: StandardSchemaV1<unknown, AskerV3> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => {
      const v = value as Partial<Record<keyof AskerV3, unknown>> | null;
      if (typeof v?.first !== 'string' || typeof v.last !== 'string') return { issues: [{ message: 'required', path: ['first'] }] };
      if (typeof v.grade !== 'number') return { issues: [{ message: 'must be a number', path: ['grade'] }] };
      return { value: { first: v.first, last: v.last, grade: v.grade } };
    },
  },
};

const upcasters = {
  1: (data: unknown) => {
    const { name } = data as { name: string };
    if (typeof name !== 'string') throw new TypeError('name is missing');
    const [first = '', ...rest] = name.split(' ');
    return { first, last: rest.join(' ') };
  },
  2: (data: unknown) => ({ grade: 1, ...(data as object) }),
};

@IntegrationEvent('spec.asker.registered', { version: 3, schema: v3Schema, upcasters })
class AskerRegistered implements AskerV3 {
  declare readonly first: string;
  declare readonly last: string;
  declare readonly grade: number;
}

describe('event upcasting', () => {
  it('brings old data up one version at a time, and knows which versions it can read', () => {
    const definition = getEventDefinition(AskerRegistered);
    expect(upcast('spec.asker.registered', definition.upcasters, { name: 'Ada King Lovelace' }, 1, 3)).toEqual({
      grade: 1,
      first: 'Ada',
      last: 'King Lovelace',
    });
    expect(upcast('spec.asker.registered', definition.upcasters, { first: 'A', last: 'B', grade: 4 }, 3, 3)).toEqual({
      first: 'A',
      last: 'B',
      grade: 4,
    });
    expect([1, 2, 3, 4].map((v) => canUpcast(definition.upcasters, v, 3))).toEqual([true, true, true, false]);
    expect(canUpcast(undefined, 1, 2)).toBe(false);
  });

  it('refuses at decoration time upcasters with a gap, or keyed outside 1..version-1', () => {
    expect(() => IntegrationEvent('spec.gap', { version: 4, upcasters: { 1: (d) => d, 3: (d) => d } })).toThrow(
      /has upcasters from 1, 3 but none from 2/,
    );
    expect(() => IntegrationEvent('spec.future', { version: 2, upcasters: { 2: (d) => d } })).toThrow(ConfigurationError);
    expect(() => IntegrationEvent('spec.zero', { version: 2, upcasters: { 0: (d) => d } })).toThrow(/upcaster from version 0/);
    // A chain may start later than version 1: versions below it are simply not accepted.
    expect(() => IntegrationEvent('spec.late', { version: 3, upcasters: { 2: (d) => d } })).not.toThrow();
  });

  describe('in the pipeline', () => {
    const received: unknown[] = [];
    const handler: HandlerBinding = {
      name: 'Askers.onRegistered',
      target: { event: getEventDefinition(AskerRegistered) },
      handle: (data) => void received.push(data),
      retry: new RetryPolicy({ maxAttempts: 3 }),
      classifier: new ErrorClassifier(),
    };
    const pipeline = new HandlerPipeline({ subscription: 'spec.askers', handlers: [handler] });
    const deliver = (version: number, data: unknown): Promise<DeliveryOutcome> =>
      pipeline.deliver({
        ...encodeEnvelope(createEnvelope({ type: 'spec.asker.registered', version, source: 'spec', data })),
        attempt: 1,
      });

    beforeEach(() => {
      received.length = 0;
    });

    it('hands the handler current-version data for old events, validated by the current schema', async () => {
      expect(await deliver(1, { name: 'Grace Hopper' })).toEqual({ kind: 'ack' });
      expect(await deliver(2, { first: 'Alan', last: 'Turing' })).toEqual({ kind: 'ack' });
      expect(await deliver(3, { first: 'Edsger', last: 'Dijkstra', grade: 9 })).toEqual({ kind: 'ack' });
      expect(received).toEqual([
        { first: 'Grace', last: 'Hopper', grade: 1 },
        { first: 'Alan', last: 'Turing', grade: 1 },
        { first: 'Edsger', last: 'Dijkstra', grade: 9 },
      ]);
    });

    it('dead-letters at once an old event its upcaster cannot read, and a version newer than the handler knows', async () => {
      const broken = await deliver(1, { nom: 'Grace' });
      expect(broken).toMatchObject({
        kind: 'deadLetter',
        reason: { code: 'TIDINGS_UPCAST_FAILED', attempts: 1, errorName: UpcastError.name },
      });
      expect(broken.kind === 'deadLetter' && broken.reason.message).toBe(
        'Upcasting event spec.asker.registered from version 1 to 2 failed: TypeError: name is missing',
      );
      const newer = await deliver(4, { first: 'A', last: 'B', grade: 1, extra: true });
      expect(newer).toMatchObject({ kind: 'deadLetter', reason: { code: 'TIDINGS_UNKNOWN_EVENT_TYPE', attempts: 1 } });
      expect(received).toEqual([]);
    });
  });
});
