import { createEnvelope } from '../envelope/envelope.factory.js';
import { PublishFailedError } from '../errors/publish-failed.error.js';
import type { Envelope } from '../envelope/envelope.js';
import { publishClaim } from './claim-publisher.js';
import type { OutboxRecord } from './outbox.store.js';
import { publishWaves } from './publish-waves.js';

const record = (position: number, key?: string): OutboxRecord => ({
  position: String(position),
  attempts: 0,
  envelope: createEnvelope({ type: 't.x', version: 1, source: 's', data: { position }, ...(key !== undefined && { partitionKey: key }) }),
});
const positions = (records: readonly OutboxRecord[]): string[] => records.map((r) => r.position);

describe('publishWaves', () => {
  it('puts every unkeyed record and the first record of each key in the first wave', () => {
    const waves = publishWaves([record(1), record(2, 'a'), record(3, 'b'), record(4), record(5, 'a'), record(6, 'a'), record(7, 'b')]);
    expect(waves.map(positions)).toEqual([['1', '2', '3', '4'], ['5', '7'], ['6']]);
  });

  it('is one wave when every key appears once', () => {
    expect(publishWaves([record(1, 'a'), record(2, 'b'), record(3)])).toHaveLength(1);
    expect(publishWaves([])).toEqual([]);
  });
});

describe('publishClaim', () => {
  const sentBatches: string[][] = [];
  const transport = (fail: (envelope: Envelope) => 'refused' | 'unroutable' | undefined) => ({
    publish: async (envelopes: readonly Envelope[]) => {
      sentBatches.push(envelopes.map((e) => String((e.data as { position: number }).position)));
      const failures = envelopes.flatMap((e) => {
        const reason = fail(e);
        return reason ? [{ id: e.id, type: e.type, reason, detail: 'test' }] : [];
      });
      if (failures.length > 0) throw new PublishFailedError(failures, envelopes.length - failures.length);
    },
  });

  beforeEach(() => sentBatches.splice(0));

  it('publishes wave after wave and reports every record published', async () => {
    const result = await publishClaim(
      transport(() => undefined),
      [record(1, 'a'), record(2, 'a'), record(3)],
    );
    expect(sentBatches).toEqual([['1', '3'], ['2']]);
    expect(result).toEqual({ published: ['1', '3', '2'], failed: [], unroutable: 0, heldBack: 0 });
  });

  it('holds back the later records of a key whose record was refused, and only those', async () => {
    const refuse2 = (e: Envelope) => ((e.data as { position: number }).position === 2 ? 'refused' : undefined);
    const result = await publishClaim(transport(refuse2), [record(1, 'a'), record(2, 'b'), record(3, 'b'), record(4, 'a'), record(5, 'b')]);
    expect(sentBatches).toEqual([['1', '2'], ['4']]);
    expect(result.published).toEqual(['1', '4']);
    expect(result.failed).toEqual([{ position: '2', reason: 'refused: test' }]);
    expect(result.heldBack).toBe(2);
  });

  it('counts unroutable records as published, and any other error fails the whole wave', async () => {
    const unroutable = await publishClaim(
      transport(() => 'unroutable'),
      [record(1, 'a'), record(2, 'a')],
    );
    expect(unroutable).toMatchObject({ published: ['1', '2'], unroutable: 2, failed: [] });
    const down = await publishClaim(
      {
        publish: () => Promise.reject(new Error('connection closed')),
      },
      [record(1, 'a'), record(2), record(3, 'a')],
    );
    expect(down).toEqual({
      published: [],
      failed: [
        { position: '1', reason: 'Error: connection closed' },
        { position: '2', reason: 'Error: connection closed' },
      ],
      unroutable: 0,
      heldBack: 1,
    });
  });
});
