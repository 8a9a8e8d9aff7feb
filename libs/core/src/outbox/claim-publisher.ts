import { errorSummary } from '../errors/error-summary.js';
import { PublishFailedError } from '../errors/publish-failed.error.js';
import type { Transport } from '../transport/transport.js';
import type { OutboxClaimResult, OutboxRecord } from './outbox.store.js';
import { publishWaves } from './publish-waves.js';

/** A claim's result with what the relay counts. */
export interface PublishedClaim extends OutboxClaimResult {
  /** Records the broker accepted but routed to no queue (no subscriber yet): published to nobody. */
  readonly unroutable: number;
  /** Records not sent because an earlier record of their key failed: still pending, not an attempt. */
  readonly heldBack: number;
}

/**
 * Publishes a claim's records wave by wave ({@link publishWaves}). Never throws: every record ends
 * published, failed, or held back behind a failed record of its key.
 *
 * An unroutable record counts as published: the broker accepted it and no queue wanted it, as with
 * any pub/sub system, and keeping it would block its key forever. Enable the transport's event log to
 * retain such events.
 */
export async function publishClaim(transport: Pick<Transport, 'publish'>, records: readonly OutboxRecord[]): Promise<PublishedClaim> {
  const published: string[] = [];
  const failed: { position: string; reason: string }[] = [];
  const blockedKeys = new Set<string>();
  let unroutable = 0;
  let heldBack = 0;
  for (const wave of publishWaves(records)) {
    const sendable = wave.filter((record) => {
      const key = record.envelope.partitionkey;
      const blocked = key !== undefined && blockedKeys.has(key);
      if (blocked) heldBack += 1;
      return !blocked;
    });
    if (sendable.length === 0) continue;
    const block = (record: OutboxRecord, reason: string): void => {
      failed.push({ position: record.position, reason });
      if (record.envelope.partitionkey !== undefined) blockedKeys.add(record.envelope.partitionkey);
    };
    try {
      await transport.publish(sendable.map((record) => record.envelope));
      for (const record of sendable) published.push(record.position);
    } catch (error) {
      if (!(error instanceof PublishFailedError)) {
        for (const record of sendable) block(record, errorSummary(error));
        continue;
      }
      const failures = new Map(error.failures.map((failure) => [failure.id, failure]));
      for (const record of sendable) {
        const failure = failures.get(record.envelope.id);
        if (failure === undefined || failure.reason === 'unroutable') {
          published.push(record.position);
          if (failure) unroutable += 1;
        } else {
          block(record, `${failure.reason}: ${failure.detail}`);
        }
      }
    }
  }
  return { published, failed, unroutable, heldBack };
}
