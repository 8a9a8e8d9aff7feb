import type { OutboxRecord } from './outbox.store.js';

/**
 * Splits records (in position order) into waves that may each be published with all confirms in
 * flight: wave n holds the n-th record of every partition key, and the first wave also every record
 * without a key. A key's next record is sent only after its previous one was confirmed, so a refused
 * or unconfirmed record can never be overtaken by a later one of its key. With many keys (the usual
 * case: one key per aggregate) a claim is one wave.
 */
export function publishWaves(records: readonly OutboxRecord[]): OutboxRecord[][] {
  const waves: OutboxRecord[][] = [];
  const seen = new Map<string, number>();
  for (const record of records) {
    const key = record.envelope.partitionkey;
    let index = 0;
    if (key !== undefined) {
      index = seen.get(key) ?? 0;
      seen.set(key, index + 1);
    }
    (waves[index] ??= []).push(record);
  }
  return waves;
}
