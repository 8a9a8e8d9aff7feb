import { errorSummary } from '../errors/error-summary.js';
import type { Transport } from '../transport/transport.js';
import { publishClaim } from './claim-publisher.js';
import { resolveRelayOptions, type OutboxRelayOptions, type ResolvedRelayOptions } from './outbox-relay.options.js';
import type { OutboxBacklog, OutboxClaim, OutboxStore, OutboxWatch } from './outbox.store.js';
import { RelayBackoff } from './relay-backoff.js';
import { ThroughputWindow } from './throughput-window.js';
import { WakeSignal } from './wake-signal.js';

/** What the relay has done: for health checks and metrics. */
export interface OutboxRelayStats {
  /** `backing-off`: the last claim failed (broker or database away) and the relay is pausing. */
  readonly state: 'stopped' | 'running' | 'backing-off';
  /** Records the broker accepted, since start. */
  readonly published: number;
  /** Of those, records no queue was bound for. */
  readonly unroutable: number;
  /** Record publish attempts that failed (they stay pending and are retried). */
  readonly failedAttempts: number;
  /** Claims completed. */
  readonly claims: number;
  /** Records published per second over the last 10 s. */
  readonly publishedPerSecond: number;
  readonly consecutiveFailures: number;
  readonly lastError?: string;
}

/** {@link OutboxBacklog} plus the oldest due record's age. */
export interface OutboxLag extends OutboxBacklog {
  /** Milliseconds since the oldest due record was written; 0 when none is due. */
  readonly oldestDueAgeMs: number;
}

/** What one claim held: how many records, and whether any had a partition key. */
interface ClaimSummary {
  readonly records: number;
  readonly keyed: boolean;
}

const NOTHING_CLAIMED: ClaimSummary = { records: 0, keyed: false };

/**
 * Moves committed outbox records to the broker: claims batches from an {@link OutboxStore}, publishes
 * them through any {@link Transport} with all confirms of a wave in flight, and completes each claim
 * with only the records the broker accepted. Several claims are in flight at once, and several relays
 * (processes) may run against one store: the store's claim keeps per-key order, and the relay
 * publishes a claim in position order, one wave per key depth ({@link publishWaves}).
 *
 * Delivery is at least once: a relay that dies between the broker's confirm and the claim's
 * completion publishes those records again on the next claim; consumers deduplicate by event id.
 */
export class OutboxRelay {
  private readonly options: ResolvedRelayOptions;
  private readonly signal = new WakeSignal();
  /** Interrupts backoff pauses at stop; kept apart from {@link signal} so a pausing worker never takes a wake-up meant for an idle one. */
  private readonly stopSignal = new WakeSignal();
  private readonly backoff: RelayBackoff;
  private readonly throughput = new ThroughputWindow(10_000);
  private readonly claimsInHand = new Set<OutboxClaim>();
  private running = false;
  private workers: Promise<void>[] = [];
  private watch: OutboxWatch | undefined;
  private purgeTimer: ReturnType<typeof setInterval> | undefined;
  private purging = false;
  private pausedUntil = 0;
  private counters = { published: 0, unroutable: 0, failedAttempts: 0, claims: 0 };
  private lastError: string | undefined;
  private stopping: Promise<void> | undefined;
  private epoch = 0;

  constructor(
    private readonly store: OutboxStore,
    private readonly transport: Pick<Transport, 'publish'>,
    options: OutboxRelayOptions = {},
  ) {
    this.options = resolveRelayOptions(options);
    this.backoff = new RelayBackoff(options.backoff);
  }

  /** Starts the workers (and the store's wake-ups); resolves once they run. The transport must be started. */
  async start(): Promise<void> {
    if (this.running) return;
    if (this.stopping) await this.stopping;
    this.running = true;
    if (this.options.listen && this.store.watch) {
      this.watch = await this.store.watch(
        () => this.signal.notify(),
        (error) => {
          this.options.logger.warn(
            `Outbox wake-ups lost (${errorSummary(error)}); polling every ${this.options.pollIntervalMs} ms until they return`,
          );
          // Commits may go unannounced from now on: claim at once (and back off if the database is what went away).
          this.signal.notify();
        },
      );
    }
    this.epoch += 1;
    const epoch = this.epoch;
    this.workers = Array.from({ length: this.options.batchesInFlight }, () => this.work(epoch));
    if (this.store.purgePublished) {
      this.purgeTimer = setInterval(() => void this.purge(), this.options.purgeIntervalMs);
      this.purgeTimer.unref();
    }
  }

  /**
   * Stops claiming, lets the claims in hand finish (up to `stopTimeoutMs`), then releases any still
   * unfinished, so their records stay pending for the next relay. Calling it twice returns the same stop.
   */
  stop(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.stopping = this.drain().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Claims now rather than at the next wake-up or poll (e.g. right after a local commit). */
  wake(): void {
    this.signal.notify();
  }

  stats(): OutboxRelayStats {
    const state = !this.running ? 'stopped' : this.pausedUntil > Date.now() ? 'backing-off' : 'running';
    return {
      state,
      ...this.counters,
      publishedPerSecond: this.throughput.perSecond(),
      consecutiveFailures: this.backoff.consecutiveFailures,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
    };
  }

  /** The store's backlog, with the oldest due record's age. */
  async lag(): Promise<OutboxLag> {
    const backlog = await this.store.backlog();
    const oldestDueAgeMs = backlog.oldestDueAt ? Math.max(0, Date.now() - backlog.oldestDueAt.getTime()) : 0;
    return { ...backlog, oldestDueAgeMs };
  }

  private async drain(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.signal.notifyAll();
    this.stopSignal.notifyAll();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = Promise.all(this.workers).then(() => true);
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.options.stopTimeoutMs);
    });
    const done = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    if (!done) {
      this.options.logger.warn(`Outbox relay stop: releasing ${this.claimsInHand.size} unfinished claim(s); their records stay pending`);
      await Promise.all([...this.claimsInHand].map((claim) => claim.release()));
      this.claimsInHand.clear();
    }
    await this.watch?.close();
    this.watch = undefined;
  }

  /** One worker of the start numbered `epoch`: a worker stuck past a timed-out stop must not rejoin a later start. */
  private async work(epoch: number): Promise<void> {
    while (this.running && epoch === this.epoch) {
      const pause = this.pausedUntil - Date.now();
      if (pause > 0) {
        await this.stopSignal.wait(this.stopSignal.current, pause);
        continue;
      }
      const generation = this.signal.current;
      const claimed = await this.claimAndPublish();
      if (this.pausedUntil > Date.now()) continue; // failed: the backoff, not the poll, says when to try again
      if (claimed.records >= this.options.batchSize) {
        this.signal.notify(); // more may be waiting: bring in another worker
      } else if (this.running) {
        // A claim holding partition keys kept other claims from those keys' later rows: look again if any came meanwhile.
        await this.signal.wait(generation, this.options.pollIntervalMs, claimed.keyed);
      }
    }
  }

  /** One claim, published and completed. */
  private async claimAndPublish(): Promise<ClaimSummary> {
    let claim: OutboxClaim | undefined;
    try {
      claim = await this.store.claim(this.options.batchSize);
    } catch (error) {
      this.fail(`claiming outbox records failed: ${errorSummary(error)}`);
      return NOTHING_CLAIMED;
    }
    if (!claim) return NOTHING_CLAIMED;
    this.claimsInHand.add(claim);
    try {
      const result = await publishClaim(this.transport, claim.records);
      if (!this.claimsInHand.has(claim)) return NOTHING_CLAIMED; // released by a stop that timed out
      await claim.complete(result);
      this.counters.published += result.published.length;
      this.counters.unroutable += result.unroutable;
      this.counters.failedAttempts += result.failed.length;
      this.counters.claims += 1;
      this.throughput.add(result.published.length);
      if (result.unroutable > 0)
        this.options.logger.warn(`Outbox relay: ${result.unroutable} event(s) had no queue bound and reached no subscriber`);
      if (result.failed.length > 0) {
        const [first] = result.failed;
        this.fail(
          `${result.failed.length} of ${claim.records.length} outbox records were not published (${first?.reason ?? ''}); they stay pending`,
        );
      } else {
        this.backoff.succeeded();
      }
      return { records: claim.records.length, keyed: claim.records.some((record) => record.envelope.partitionkey !== undefined) };
    } catch (error) {
      await claim.release();
      this.fail(`completing an outbox claim failed (its records stay pending and will be published again): ${errorSummary(error)}`);
      return NOTHING_CLAIMED;
    } finally {
      this.claimsInHand.delete(claim);
    }
  }

  private fail(message: string): void {
    const delay = this.backoff.failed();
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
    this.lastError = message;
    // Log the first failure of a streak and then every tenth, so an outage does not flood the log.
    const streak = this.backoff.consecutiveFailures;
    if (streak === 1 || streak % 10 === 0)
      this.options.logger.warn(`Outbox relay: ${message}; retrying in ${delay} ms (failure ${streak})`);
  }

  private async purge(): Promise<void> {
    if (this.purging || !this.store.purgePublished) return;
    this.purging = true;
    try {
      while (this.running && (await this.store.purgePublished(this.options.purgeBatchSize)) === this.options.purgeBatchSize);
    } catch (error) {
      this.options.logger.warn(`Outbox relay: purging published records failed (${errorSummary(error)}); will try again`);
    } finally {
      this.purging = false;
    }
  }
}
