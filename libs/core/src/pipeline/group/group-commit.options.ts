import { ConfigurationError } from '../../errors/configuration.error.js';

/**
 * How deliveries that arrive together share one database transaction (group commit, batch handlers). A group starts
 * when it is full, or once its oldest delivery has waited `maxWaitMs`, as soon as fewer than `groupsInFlight` groups
 * are committing.
 */
export interface GroupCommitOptions {
  /**
   * Most deliveries per transaction. @default 50 for group commit: each delivery has a savepoint, and PostgreSQL keeps
   * the ids of only 64 writing subtransactions per transaction in shared memory before other sessions' snapshots slow down
   */
  readonly maxMessages?: number;
  /**
   * How long a delivery may wait for others to join its group while nothing holds it back. @default 0: no added
   * latency; deliveries that arrive in the same turn of the event loop, or while earlier groups commit, still group
   */
  readonly maxWaitMs?: number;
  /**
   * Groups committing at once, each on its own connection; a partition key is in at most one of them. @default 2 (3 for
   * batch handlers: {@link DEFAULT_BATCH_GROUPS_IN_FLIGHT})
   */
  readonly groupsInFlight?: number;
}

/** {@link GroupCommitOptions} with every default applied. */
export type ResolvedGroupCommitOptions = Required<GroupCommitOptions>;

/** Defaults of {@link GroupCommitOptions}. */
export const DEFAULT_GROUP_COMMIT: ResolvedGroupCommitOptions = { maxMessages: 50, maxWaitMs: 0, groupsInFlight: 2 };

/** Default size of a batch handler's batches: no savepoints, so above the group-commit default. */
export const DEFAULT_BATCH_SIZE = 100;

/**
 * Batches committing at once by default: one more than group commit's, because a batch costs a few statements however
 * large it is, so the consumer spends its time between commits and a third batch in flight keeps the broker delivering
 * (measured: 0.72× to 0.87× raw consume; docs/decisions/0015-batch-groups-in-flight.md). One connection more at peak.
 */
export const DEFAULT_BATCH_GROUPS_IN_FLIGHT = 3;

/** Applies the defaults and checks the values; `where` names the option in error messages. */
export function resolveGroupCommitOptions(
  options: GroupCommitOptions,
  where: string,
  defaults = DEFAULT_GROUP_COMMIT,
): ResolvedGroupCommitOptions {
  const resolved = { ...defaults, ...options };
  const fail = (name: string, rule: string): never => {
    throw new ConfigurationError(
      `${where}: ${name} must be ${rule}, got ${String(resolved[name as keyof typeof resolved])}`,
      `Fix ${where}.`,
      {
        where,
        option: name,
      },
    );
  };
  if (!Number.isInteger(resolved.maxMessages) || resolved.maxMessages < 1) fail('maxMessages', 'a whole number from 1');
  if (!Number.isInteger(resolved.groupsInFlight) || resolved.groupsInFlight < 1) fail('groupsInFlight', 'a whole number from 1');
  if (!Number.isFinite(resolved.maxWaitMs) || resolved.maxWaitMs < 0) fail('maxWaitMs', 'a number of milliseconds from 0');
  return resolved;
}

/** The grouping of a batch handler's batches: `size` is its `maxMessages`; checked under the name users wrote. */
export function resolveBatchOptions(
  batch: { readonly size?: number } & Omit<GroupCommitOptions, 'maxMessages'>,
  where: string,
): ResolvedGroupCommitOptions {
  const { size = DEFAULT_BATCH_SIZE, ...timing } = batch;
  if (!Number.isInteger(size) || size < 1) {
    throw new ConfigurationError(`${where}: batch size must be a whole number from 1, got ${String(size)}`, `Fix ${where}.`, { where });
  }
  return resolveGroupCommitOptions({ ...timing, maxMessages: size }, where, {
    ...DEFAULT_GROUP_COMMIT,
    groupsInFlight: DEFAULT_BATCH_GROUPS_IN_FLIGHT,
  });
}

/**
 * The deliveries a consumer must be allowed to hold for its groups to fill: the groups committing plus the one
 * forming. Frameworks use it as the default prefetch and concurrency of grouped subscriptions.
 */
export const groupHoldingCapacity = (options: ResolvedGroupCommitOptions): number => options.maxMessages * (options.groupsInFlight + 1);
