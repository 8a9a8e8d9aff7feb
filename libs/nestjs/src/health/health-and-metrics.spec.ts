import 'reflect-metadata';
import { Injectable, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  eventually,
  IntegrationEvent,
  MemoryBroker,
  MemoryTransport,
  NonRetryableError,
  type OutboxBacklog,
  type OutboxStore,
} from '@tidings/core';
import { OnEvent } from '../decorators/on-event.decorator.js';
import { EventBusMetrics } from '../metrics/event-bus.metrics.js';
import type { EventBusModuleOptions } from '../module/event-bus.options.js';
import { EventBusModule } from '../module/event-bus.module.js';
import { EventBus } from '../publishing/event-bus.js';
import { EventBusHealth } from './event-bus.health.js';

const silent: LoggerService = { log: () => undefined, warn: () => undefined, error: () => undefined };

@IntegrationEvent('spec.parcel.sent')
class ParcelSent {
  constructor(readonly fragile: boolean) {}
}

@Injectable()
class Courier {
  @OnEvent(ParcelSent, { subscription: 'courier' })
  on(parcel: ParcelSent): void {
    if (parcel.fragile) throw new NonRetryableError('fragile parcels are refused');
  }
}

/** An outbox whose backlog the test sets; claiming finds nothing, so the relay idles. */
class BacklogStore implements OutboxStore {
  backlogRead: () => Promise<OutboxBacklog> = async () => ({ pending: 0, due: 0 });
  async claim() {
    return undefined;
  }
  backlog(): Promise<OutboxBacklog> {
    return this.backlogRead();
  }
}

async function boot(options: Partial<EventBusModuleOptions> = {}) {
  const transport = new MemoryTransport({ broker: new MemoryBroker({ timeScale: 0 }) });
  const module = await Test.createTestingModule({
    imports: [EventBusModule.forRoot({ service: 'spec', logger: silent, transport, ...options })],
    providers: [Courier],
  }).compile();
  await module.init();
  return { module, transport, health: module.get(EventBusHealth), metrics: module.get(EventBusMetrics) };
}

describe('EventBusHealth', () => {
  it('is up with a started transport and no outbox, and down once the transport stops', async () => {
    const { module, health, transport } = await boot();
    await expect(health.check()).resolves.toEqual({ status: 'up', broker: { status: 'up', detail: 'memory transport started' } });
    await transport.stop();
    await expect(health.check()).resolves.toMatchObject({ status: 'down', broker: { status: 'down' } });
    await module.close();
  });

  it('puts the outbox down when its oldest due record waited past the limit, or when it cannot be read', async () => {
    const store = new BacklogStore();
    const { module, health } = await boot({ outbox: { store, relay: { listen: false } }, health: { maxOutboxLagMs: 5000 } });
    store.backlogRead = async () => ({ pending: 3, due: 3, oldestDueAt: new Date(Date.now() - 1000) });
    const fresh = await health.check();
    expect(fresh).toMatchObject({ status: 'up', outbox: { status: 'up', pending: 3 } });
    expect(fresh.outbox?.oldestDueAgeMs).toBeGreaterThanOrEqual(1000);

    store.backlogRead = async () => ({ pending: 40, due: 40, oldestDueAt: new Date(Date.now() - 9000) });
    const late = await health.check();
    expect(late).toMatchObject({ status: 'down', broker: { status: 'up' }, outbox: { status: 'down', pending: 40 } });
    expect(late.outbox?.detail).toMatch(/limit 5000 ms/);

    store.backlogRead = () => Promise.reject(new Error('connection refused'));
    await expect(health.check()).resolves.toMatchObject({
      status: 'down',
      outbox: { status: 'down', detail: 'outbox unreadable: Error: connection refused' },
    });
    await module.close();
  });
});

describe('EventBusMetrics', () => {
  type Scrape = Awaited<ReturnType<EventBusMetrics['registry']['getMetricsAsJSON']>>;
  const valueIn = (scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined =>
    scrape.find((m) => m.name === name)?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  const sample = async (metrics: EventBusMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> =>
    valueIn(await metrics.registry.getMetricsAsJSON(), name, labels);

  it('counts deliveries by outcome and times handlers', async () => {
    const { module, metrics } = await boot();
    const bus = module.get(EventBus);
    await bus.publish([new ParcelSent(false), new ParcelSent(false), new ParcelSent(true)]);
    const labels = { subscription: 'spec.courier', type: 'spec.parcel.sent' };
    await eventually(async () => expect(await sample(metrics, 'tidings_deliveries_total', { ...labels, outcome: 'ack' })).toBe(2));
    await eventually(async () => expect(await sample(metrics, 'tidings_deliveries_total', { ...labels, outcome: 'dead_letter' })).toBe(1));
    const text = await metrics.metrics();
    expect(text).toContain('tidings_handler_duration_seconds_count{subscription="spec.courier",type="spec.parcel.sent"} 3');
    expect(text).toContain('tidings_transport_up 1');
    expect(metrics.contentType).toMatch(/^text\/plain/);
    await module.close();
  });

  it('reads the outbox backlog at each scrape, and reports NaN rather than failing when it cannot', async () => {
    const store = new BacklogStore();
    const { module, metrics } = await boot({ outbox: { store, relay: { listen: false } } });
    let reads = 0;
    store.backlogRead = async () => {
      reads += 1;
      return { pending: 7, due: 7, oldestDueAt: new Date(Date.now() - 2000) };
    };
    const scrape = await metrics.registry.getMetricsAsJSON();
    expect(reads).toBe(1); // one store read per scrape serves both gauges
    expect(valueIn(scrape, 'tidings_outbox_pending')).toBe(7);
    expect(valueIn(scrape, 'tidings_outbox_oldest_due_age_seconds')).toBeGreaterThanOrEqual(2);
    expect(valueIn(scrape, 'tidings_outbox_published_total')).toBe(0);
    store.backlogRead = () => Promise.reject(new Error('database away'));
    expect(await sample(metrics, 'tidings_outbox_pending')).toBeNaN();
    await module.close();
  });
});
