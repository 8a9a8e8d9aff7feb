import {
  ConfigurationError,
  ErrorClassifier,
  findEventDefinition,
  groupHoldingCapacity,
  resolveBatchOptions,
  resolveGroupCommitOptions,
  RetryPolicy,
  TopicPattern,
  type EventTypeRegistry,
  type HandlerBinding,
  type ResolvedGroupCommitOptions,
  type Subscription,
} from '@tidings/core';
import { DEFAULT_CONCURRENCY, DEFAULT_PREFETCH, type ResolvedSubscriptionDefaults } from '../module/event-bus.options.js';
import { checkFlowControl, NAME_FORMAT } from '../module/options.validation.js';
import type { OnEventOptions } from '../decorators/on-event.decorator.js';
import type { HandlerDescriptor } from './handler.descriptor.js';

/** One subscription to open: the transport's view and the handlers sharing it. */
export interface PlannedSubscription {
  readonly subscription: Subscription;
  readonly bindings: readonly HandlerBinding[];
  /** Handle through the inbox (see `OnEventOptions.transactional`). */
  readonly transactional: boolean;
  /** How its deliveries share transactions: grouped (a batch handler's batches too), or one each (`false`). */
  readonly groupCommit: ResolvedGroupCommitOptions | false;
}

/** What the planner needs to know of the application's inbox. */
export interface InboxCapabilities {
  /** Whether the inbox can run a group of deliveries in one transaction (`InboxStore.runGroup`). */
  readonly groups: boolean;
}

const kebab = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();

/** Re-throws configuration errors with the handler's name in front, so startup failures say where. */
function forHandler<T>(handler: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new ConfigurationError(`${handler}: ${error.message}`, error.hint ?? 'Fix the @OnEvent options.', {
        ...error.context,
        handler,
      });
    }
    throw error;
  }
}

function bind(descriptor: HandlerDescriptor, defaults: ResolvedSubscriptionDefaults, registry: EventTypeRegistry): HandlerBinding {
  const { options, event, name } = descriptor;
  const target = forHandler(name, () => {
    if (typeof event === 'function') {
      if (!findEventDefinition(event)) {
        throw new ConfigurationError(
          `@OnEvent names class ${event.name}, which has no @IntegrationEvent`,
          "Decorate the event class with @IntegrationEvent('<context>.<entity>.<what-happened>'), or pass topic patterns.",
        );
      }
      return { event: registry.register(event) };
    }
    if (event.length === 0) throw new ConfigurationError('@OnEvent has an empty pattern list', "Give at least one pattern, e.g. 'qa.#'.");
    return { patterns: event.map((p) => TopicPattern.parse(p)) };
  });
  const { batch } = options;
  return {
    name,
    target,
    handle: descriptor.handle,
    ...(batch && { batch: { ...batch, handle: descriptor.handleBatch } }),
    retry: forHandler(name, () => new RetryPolicy({ ...defaults.retry, ...options.retry })),
    classifier: new ErrorClassifier({
      retryOn: options.retryOn ?? defaults.retryOn,
      deadLetterOn: options.deadLetterOn ?? defaults.deadLetterOn,
    }),
  };
}

/** The one value a group of handlers agrees on, or an error naming those that disagree. */
function agreed<K extends 'prefetch' | 'concurrency' | 'transactional' | 'groupCommit'>(
  queue: string,
  option: K,
  group: readonly HandlerDescriptor[],
): NonNullable<OnEventOptions[K]> | undefined {
  const values = new Map(group.flatMap((d) => (d.options[option] === undefined ? [] : [[d.name, d.options[option]] as const])));
  if (new Set(values.values()).size > 1) {
    throw new ConfigurationError(
      `Handlers sharing subscription ${queue} disagree on ${option}: ${[...values].map(([n, v]) => `${n}=${v}`).join(', ')}`,
      `Set ${option} on one of them only, or give them the same value.`,
      { subscription: queue, option },
    );
  }
  return values.values().next().value;
}

function checkSharing(queue: string, group: readonly HandlerDescriptor[], bindings: readonly HandlerBinding[]): void {
  if (bindings.length < 2) return;
  const names = group.map((d) => d.name).join(', ');
  if (bindings.some((b) => 'patterns' in b.target)) {
    throw new ConfigurationError(
      `Subscription ${queue} is shared by ${names}, and at least one of them is bound by topic patterns`,
      'A shared subscription dispatches by event type, so each of its handlers must name an event class; give a pattern handler its own subscription.',
      { subscription: queue },
    );
  }
  const seen = new Map<string, string>();
  for (const binding of bindings) {
    if (!('event' in binding.target)) continue;
    const key = `${binding.target.event.type}@${binding.target.event.version}`;
    const other = seen.get(key);
    if (other) {
      throw new ConfigurationError(
        `Subscription ${queue} has two handlers for ${key}: ${other} and ${binding.name}`,
        'A retry would run both again: give one of them its own subscription so each keeps its own attempts and dead letters.',
        { subscription: queue, type: key },
      );
    }
    seen.set(key, binding.name);
  }
}

/** How a subscription's deliveries share transactions; checks that batch handlers are transactional. */
function grouping(
  queue: string,
  group: readonly HandlerDescriptor[],
  transactional: boolean,
  inbox: InboxCapabilities,
  defaults: ResolvedSubscriptionDefaults,
): ResolvedGroupCommitOptions | false {
  const batched = group.find((d) => d.options.batch);
  if (batched?.options.batch) {
    if (!transactional) {
      throw new ConfigurationError(
        `${batched.name} is a batch handler, but subscription ${queue} is not transactional`,
        'A batch commits its inbox rows with its writes: add transactional: true (and give EventBusModule an inbox).',
        { subscription: queue, handler: batched.name },
      );
    }
    const batch = batched.options.batch;
    return forHandler(batched.name, () => resolveBatchOptions(batch, `@OnEvent option 'batch'`));
  }
  if (!transactional || !inbox.groups) return false;
  const chosen = agreed(queue, 'groupCommit', group) ?? defaults.groupCommit;
  return chosen === false ? false : resolveGroupCommitOptions(chosen, `Group commit of subscription ${queue}`);
}

/**
 * Groups discovered handlers into subscriptions, applies defaults and checks the rules that keep
 * retries and dead letters per handler correct. Every error names the handler or subscription.
 */
export function planSubscriptions(
  service: string,
  descriptors: readonly HandlerDescriptor[],
  defaults: ResolvedSubscriptionDefaults,
  registry: EventTypeRegistry,
  inbox: InboxCapabilities = { groups: false },
): PlannedSubscription[] {
  const groups = new Map<string, HandlerDescriptor[]>();
  for (const descriptor of descriptors) {
    const local = descriptor.options.subscription ?? `${kebab(descriptor.className)}.${kebab(descriptor.methodName)}`;
    if (!NAME_FORMAT.test(local)) {
      throw new ConfigurationError(
        `${descriptor.name}: subscription name '${local}' is invalid`,
        "Use lower-case words separated by dots, e.g. 'answers' or 'feed.projection'.",
        { handler: descriptor.name },
      );
    }
    const queue = `${service}.${local}`;
    groups.set(queue, [...(groups.get(queue) ?? []), descriptor]);
  }
  return [...groups].map(([queue, group]) => {
    const bindings = group.map((d) => bind(d, defaults, registry));
    checkSharing(queue, group, bindings);
    const transactional = agreed(queue, 'transactional', group) ?? defaults.transactional;
    const groupCommit = grouping(queue, group, transactional, inbox, defaults);
    // A grouped consumer must hold enough deliveries to fill the groups committing and the one forming.
    const capacity = groupCommit ? groupHoldingCapacity(groupCommit) : undefined;
    const prefetch = agreed(queue, 'prefetch', group) ?? defaults.prefetch ?? capacity ?? DEFAULT_PREFETCH;
    const concurrency = agreed(queue, 'concurrency', group) ?? defaults.concurrency ?? Math.min(capacity ?? DEFAULT_CONCURRENCY, prefetch);
    checkFlowControl(prefetch, concurrency, `Subscription ${queue} (${group.map((d) => d.name).join(', ')})`);
    const patterns = bindings.flatMap((b) => ('event' in b.target ? [TopicPattern.parse(b.target.event.type)] : b.target.patterns));
    const retryTiersMs = [...new Set(bindings.flatMap((b) => b.retry.options.tiersMs))].sort((a, b) => a - b);
    return { subscription: { name: queue, service, patterns, prefetch, concurrency, retryTiersMs }, bindings, transactional, groupCommit };
  });
}
