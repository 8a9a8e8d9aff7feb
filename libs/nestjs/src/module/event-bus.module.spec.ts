import 'reflect-metadata';
import { Injectable, Module, Scope, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ConfigurationError,
  DuplicateEventTypeError,
  IntegrationEvent,
  MemoryBroker,
  MemoryTransport,
  type EventContext,
  type Transport,
} from '@tidings/core';
import { OnEvent } from '../decorators/on-event.decorator.js';
import { EventBus } from '../publishing/event-bus.js';
import type { EventBusModuleOptions } from './event-bus.options.js';
import { EventBusModule } from './event-bus.module.js';

const silent: LoggerService = { log: () => undefined, warn: () => undefined, error: () => undefined };

@IntegrationEvent('spec.thing.created')
class ThingCreated {
  constructor(readonly id: string) {}
}

@IntegrationEvent('spec.thing.deleted')
class ThingDeleted {
  constructor(readonly id: string) {}
}

class NotAnEvent {}

async function boot(providers: unknown[], options: Partial<EventBusModuleOptions> = {}) {
  const transport = options.transport ?? new MemoryTransport({ broker: new MemoryBroker({ timeScale: 0 }) });
  const module = await Test.createTestingModule({
    imports: [EventBusModule.forRoot({ service: 'spec', logger: silent, ...options, transport })],
    providers: providers as never[],
  }).compile();
  await module.init();
  return { module, transport };
}

describe('EventBusModule startup validation', () => {
  it('names the handler whose concurrency exceeds its prefetch', async () => {
    @Injectable()
    class Greedy {
      @OnEvent(ThingCreated, { prefetch: 2, concurrency: 5 })
      on(): void {}
    }
    await expect(boot([Greedy])).rejects.toThrow(/Greedy\.on.*concurrency 5 is above prefetch 2/);
  });

  it('names both handlers when a shared subscription has two handlers for one type', async () => {
    @Injectable()
    class First {
      @OnEvent(ThingCreated, { subscription: 'things' })
      on(): void {}
    }
    @Injectable()
    class Second {
      @OnEvent(ThingCreated, { subscription: 'things' })
      on(): void {}
    }
    const failure = boot([First, Second]);
    await expect(failure).rejects.toThrow(ConfigurationError);
    await expect(failure).rejects.toThrow(/spec\.things has two handlers for spec\.thing\.created@1: First\.on and Second\.on/);
  });

  it('refuses a pattern handler in a shared subscription', async () => {
    @Injectable()
    class Mixed {
      @OnEvent(ThingCreated, { subscription: 'things' })
      created(): void {}
      @OnEvent('spec.#', { subscription: 'things' })
      anything(): void {}
    }
    await expect(boot([Mixed])).rejects.toThrow(/bound by topic patterns/);
  });

  it('names the handler whose event class has no @IntegrationEvent', async () => {
    @Injectable()
    class Wrong {
      @OnEvent(NotAnEvent)
      on(): void {}
    }
    await expect(boot([Wrong])).rejects.toThrow(/Wrong\.on: @OnEvent names class NotAnEvent, which has no @IntegrationEvent/);
  });

  it('names the handler with an invalid retry option', async () => {
    @Injectable()
    class BadRetry {
      @OnEvent(ThingCreated, { retry: { maxAttempts: 0 } })
      on(): void {}
    }
    await expect(boot([BadRetry])).rejects.toThrow(/BadRetry\.on: Invalid retry option maxAttempts/);
  });

  it('names the handler with an invalid topic pattern or subscription name', async () => {
    @Injectable()
    class BadPattern {
      @OnEvent('spec.thing*')
      on(): void {}
    }
    await expect(boot([BadPattern])).rejects.toThrow(/BadPattern\.on: Invalid topic pattern 'spec\.thing\*'/);
    @Injectable()
    class BadName {
      @OnEvent(ThingCreated, { subscription: 'Not Valid' })
      on(): void {}
    }
    await expect(boot([BadName])).rejects.toThrow(/BadName\.on: subscription name 'Not Valid' is invalid/);
  });

  it('refuses two classes claiming the same event type', async () => {
    @IntegrationEvent('spec.thing.created')
    class ThingCreatedCopy {}
    @Injectable()
    class Both {
      @OnEvent(ThingCreated)
      a(): void {}
      @OnEvent(ThingCreatedCopy)
      b(): void {}
    }
    await expect(boot([Both])).rejects.toThrow(DuplicateEventTypeError);
  });

  it('refuses request-scoped handlers', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @OnEvent(ThingCreated)
      on(): void {}
    }
    await expect(boot([PerRequest])).rejects.toThrow(/PerRequest\.on belongs to a request-scoped provider/);
  });

  it('names invalid module options', async () => {
    await expect(boot([], { service: 'Bad Name' })).rejects.toThrow(/option 'service' is invalid/);
    await expect(boot([], { transport: {} as Transport })).rejects.toThrow(/option 'transport' is missing or is not a Transport/);
    await expect(boot([], { defaults: { prefetch: 0 } })).rejects.toThrow(/prefetch must be a whole number from 1, got 0/);
  });

  it('refuses two @OnEvent on one method when the class is declared', () => {
    expect(() => {
      class Twice {
        @OnEvent(ThingCreated)
        @OnEvent(ThingDeleted)
        on(): void {}
      }
      return Twice;
    }).toThrow(/Twice\.on has more than one @OnEvent/);
  });
});

describe('EventBusModule wiring', () => {
  it('dispatches by type between handlers that share one subscription', async () => {
    const seen: string[] = [];
    @Injectable()
    class Things {
      @OnEvent(ThingCreated, { subscription: 'things' })
      created(event: ThingCreated, context: EventContext): void {
        seen.push(`created:${event.id}:${context.subscription}`);
      }
      @OnEvent(ThingDeleted, { subscription: 'things' })
      deleted(event: ThingDeleted, context: EventContext): void {
        seen.push(`deleted:${event.id}:${context.subscription}`);
      }
    }
    const { module, transport } = await boot([Things]);
    await module.get(EventBus).publish([new ThingCreated('1'), new ThingDeleted('1')]);
    await (transport as MemoryTransport).broker.whenIdle();
    expect(seen).toEqual(['created:1:spec.things', 'deleted:1:spec.things']);
    await module.close();
  });

  it('derives a readable subscription name from class and method', async () => {
    const subscribed: string[] = [];
    const memory = new MemoryTransport();
    const spy: Transport = {
      name: 'spy',
      start: () => memory.start(),
      stop: () => memory.stop(),
      publish: (e) => memory.publish(e),
      subscribe: (subscription, deliver) => {
        subscribed.push(`${subscription.name} ${subscription.patterns.join(',')} ${subscription.prefetch}/${subscription.concurrency}`);
        return memory.subscribe(subscription, deliver);
      },
    };
    @Injectable()
    class NotifyAsker {
      @OnEvent(ThingCreated)
      onThingCreated(): void {}
    }
    const { module } = await boot([NotifyAsker], { transport: spy, defaults: { prefetch: 8 } });
    expect(subscribed).toEqual(['spec.notify-asker.on-thing-created spec.thing.created 8/8']);
    await module.close();
  });

  it('configures asynchronously with forRootAsync', async () => {
    const handled: string[] = [];
    @Injectable()
    class Listener {
      @OnEvent(ThingCreated)
      on(event: ThingCreated): void {
        handled.push(event.id);
      }
    }
    @Module({ providers: [{ provide: 'SERVICE_NAME', useValue: 'async-spec' }], exports: ['SERVICE_NAME'] })
    class ConfigModule {}
    const transport = new MemoryTransport();
    const module = await Test.createTestingModule({
      imports: [
        EventBusModule.forRootAsync({
          imports: [ConfigModule],
          inject: ['SERVICE_NAME'],
          useFactory: (service: string) => ({ service, transport, logger: silent }),
        }),
      ],
      providers: [Listener],
    }).compile();
    await module.init();
    const [envelope] = await module.get(EventBus).publish(new ThingCreated('42'));
    await transport.broker.whenIdle();
    expect(envelope?.source).toBe('async-spec');
    expect(handled).toEqual(['42']);
    await module.close();
  });

  it('drains on shutdown: close waits for the in-flight handler, which completes once and may still publish', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    let completed = 0;
    const followUps: string[] = [];
    @Injectable()
    class Slow {
      constructor(private readonly bus: EventBus) {}

      @OnEvent(ThingCreated)
      async on(event: ThingCreated, context: EventContext): Promise<void> {
        started();
        await released;
        const [followUp] = await this.bus.publish(new ThingDeleted(event.id), { causedBy: context.envelope });
        followUps.push(followUp?.type ?? '');
        completed++;
      }
    }
    const { module } = await boot([Slow]);
    await module.get(EventBus).publish(new ThingCreated('slow'));
    await handlerStarted;
    let closed = false;
    const closing = module.close().then(() => (closed = true));
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(completed).toBe(1);
    expect(followUps).toEqual(['spec.thing.deleted']);
  });

  it('publishes with causation and correlation taken from the event being handled', async () => {
    const { module, transport } = await boot([]);
    const bus = module.get(EventBus);
    const [first] = await bus.publish(new ThingCreated('a'), { correlationId: 'flow-1' });
    const [second] = await bus.publish(new ThingDeleted('a'), { causedBy: first! });
    expect(second).toMatchObject({
      causationid: first?.id,
      correlationid: 'flow-1',
      source: 'spec',
      type: 'spec.thing.deleted',
      dataversion: 1,
    });
    await expect(bus.publish([new ThingCreated('x'), new ThingCreated('y')], { id: 'same' })).rejects.toThrow(ConfigurationError);
    await (transport as MemoryTransport).broker.whenIdle();
    await module.close();
  });
});
