import type { ResolvedGroupCommitOptions } from './group-commit.options.js';

/** What the grouper needs to know of a member: the key whose order it must keep, if any. */
export interface GroupMember {
  /** Members with the same key are never in two groups at once, and join groups in arrival order. */
  readonly orderingKey?: string;
}

interface Waiting<M> {
  readonly member: M;
  readonly since: number;
}

/**
 * Forms groups of members as they arrive and hands each to `execute`, keeping at most `groupsInFlight` groups running.
 * A group starts when it is full or once its oldest member has waited `maxWaitMs`; collecting is deferred to the next
 * turn of the event loop, so members that arrive together share a group even with no wait. Members of one ordering
 * key stay in arrival order: a key held by a running group holds back that key's later members (and only them).
 */
export class DeliveryGrouper<M extends GroupMember> {
  private waiting: Waiting<M>[] = [];
  private running = 0;
  private readonly heldKeys = new Map<string, number>();
  private collecting: ReturnType<typeof setImmediate> | undefined;
  private waitTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: ResolvedGroupCommitOptions,
    /** Runs a group; it settles its members itself. A rejection is a bug of the caller's and is swallowed. */
    private readonly execute: (group: readonly M[]) => Promise<void>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(member: M): void {
    this.waiting.push({ member, since: this.now() });
    this.collecting ??= setImmediate(() => {
      this.collecting = undefined;
      this.launch();
    });
  }

  /** Members waiting for a group, and groups running: for tests and metrics. */
  get size(): { readonly waiting: number; readonly running: number } {
    return { waiting: this.waiting.length, running: this.running };
  }

  private launch(): void {
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    while (this.running < this.options.groupsInFlight && this.waiting.length > 0) {
      const taken = this.eligible();
      const oldest = taken[0];
      if (!oldest) return; // every waiting member's key is held: a finishing group relaunches
      const waitedMs = this.now() - oldest.since;
      if (taken.length < this.options.maxMessages && waitedMs < this.options.maxWaitMs) {
        this.waitTimer = setTimeout(() => this.launch(), this.options.maxWaitMs - waitedMs);
        this.waitTimer.unref(); // the consumer's connection keeps the process alive, not a group waiting for company
        return;
      }
      this.start(taken);
    }
  }

  /** The first `maxMessages` waiting members whose key no running group holds, oldest first; leaves them in `waiting`. */
  private eligible(): Waiting<M>[] {
    const taken: Waiting<M>[] = [];
    const blocked = new Set<string>();
    for (const entry of this.waiting) {
      if (taken.length === this.options.maxMessages) break;
      const key = entry.member.orderingKey;
      if (key !== undefined && (this.heldKeys.has(key) || blocked.has(key))) {
        blocked.add(key);
        continue;
      }
      taken.push(entry);
    }
    return taken;
  }

  private start(taken: readonly Waiting<M>[]): void {
    const chosen = new Set(taken);
    this.waiting = this.waiting.filter((entry) => !chosen.has(entry));
    const group = taken.map((entry) => entry.member);
    const keys = group.flatMap((member) => (member.orderingKey === undefined ? [] : [member.orderingKey]));
    for (const key of keys) this.heldKeys.set(key, (this.heldKeys.get(key) ?? 0) + 1);
    this.running++;
    void this.execute(group)
      .catch(() => undefined)
      .finally(() => {
        this.running--;
        for (const key of keys) {
          const left = (this.heldKeys.get(key) ?? 1) - 1;
          if (left === 0) this.heldKeys.delete(key);
          else this.heldKeys.set(key, left);
        }
        this.launch();
      });
  }
}
