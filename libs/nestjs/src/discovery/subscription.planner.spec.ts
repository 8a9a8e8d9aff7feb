import 'reflect-metadata';
import { ConfigurationError, EventTypeRegistry, IntegrationEvent } from '@tidings/core';
import type { OnEventOptions } from '../decorators/on-event.decorator.js';
import { validateModuleOptions } from '../module/options.validation.js';
import type { HandlerDescriptor } from './handler.descriptor.js';
import { planSubscriptions, type PlannedSubscription } from './subscription.planner.js';

@IntegrationEvent('planner.item.added')
class ItemAdded {}

const descriptor = (options: OnEventOptions): HandlerDescriptor => ({
  event: ItemAdded,
  options,
  name: 'Items.onItemAdded',
  className: 'Items',
  methodName: 'onItemAdded',
  handle: () => undefined,
  handleBatch: () => undefined,
});

const transport = {
  name: 'test',
  start: async () => undefined,
  stop: async () => undefined,
  publish: async () => undefined,
  subscribe: async () => undefined,
};

function plan(options: OnEventOptions, defaults = {}, groups = true): PlannedSubscription {
  const { defaults: resolved } = validateModuleOptions({ service: 'shop', transport, defaults });
  const [planned] = planSubscriptions('shop', [descriptor(options)], resolved, new EventTypeRegistry(), { groups });
  return planned!;
}

const flow = (p: PlannedSubscription) => [p.subscription.prefetch, p.subscription.concurrency];

describe('planSubscriptions: group commit and batches', () => {
  it('groups a transactional subscription by default, and holds enough deliveries to fill its groups', () => {
    const planned = plan({ transactional: true });
    expect(planned.groupCommit).toEqual({ maxMessages: 50, maxWaitMs: 0, groupsInFlight: 2 });
    expect(flow(planned)).toEqual([150, 150]);
  });

  it('keeps one transaction per delivery, and the usual flow control, when asked, when not transactional or when the inbox cannot group', () => {
    for (const planned of [plan({ transactional: true, groupCommit: false }), plan({}), plan({ transactional: true }, {}, false)]) {
      expect(planned.groupCommit).toBe(false);
      expect(flow(planned)).toEqual([20, 10]);
    }
  });

  it('lets prefetch and concurrency given by the handler or the module win, and the module defaults shape groups', () => {
    expect(flow(plan({ transactional: true, prefetch: 40 }))).toEqual([40, 40]);
    expect(flow(plan({ transactional: true }, { prefetch: 30, concurrency: 5 }))).toEqual([30, 5]);
    expect(plan({ transactional: true }, { groupCommit: { maxMessages: 10 } }).groupCommit).toEqual({
      maxMessages: 10,
      maxWaitMs: 0,
      groupsInFlight: 2,
    });
  });

  it('sizes a batch handler by its batch, 100 by default, three batches in flight', () => {
    const planned = plan({ transactional: true, batch: {} });
    expect(planned.groupCommit).toMatchObject({ maxMessages: 100, groupsInFlight: 3 });
    expect(flow(planned)).toEqual([400, 400]);
    expect(plan({ transactional: true, batch: { groupsInFlight: 1 } }).groupCommit).toMatchObject({ groupsInFlight: 1 });
    expect(planned.bindings[0]?.batch).toBeDefined();
  });

  it('refuses a batch handler on a subscription that is not transactional, naming it', () => {
    expect(() => plan({ batch: { size: 10 } })).toThrow(
      new ConfigurationError('Items.onItemAdded is a batch handler, but subscription shop.items.on-item-added is not transactional', ''),
    );
  });

  it('names the handler of an invalid batch size', () => {
    expect(() => plan({ transactional: true, batch: { size: 0 } })).toThrow(
      "Items.onItemAdded: @OnEvent option 'batch': batch size must be a whole number from 1, got 0",
    );
  });
});
