import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import {
  ConfigurationError,
  IntegrationEvent,
  MemoryBroker,
  MemoryTransport,
  type Checkpoint,
  type ProjectionCommit,
  type ProjectionContext,
  type ProjectionStatus,
  type ProjectionStore,
  type Transport,
} from '@tidings/core';
import { OnEvent } from '../decorators/on-event.decorator.js';
import { EventHandlerExplorer } from '../discovery/event-handler.explorer.js';
import { EventBusModule } from '../module/event-bus.module.js';
import type { EventBusModuleOptions } from '../module/event-bus.options.js';
import { OnEventBatch, Projection, type ProjectionReadModel } from './projection.decorator.js';
import { Projections } from './projections.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

@IntegrationEvent('spec.tally.counted')
class TallyCounted {
  constructor(readonly by: number) {}
}

/** A store that keeps one number per copy: enough to see the module start, follow and apply. */
class CountingStore implements ProjectionStore<{ total: number }> {
  readonly state = { total: 0 };
  private checkpointOf: Checkpoint | undefined;

  open(): Promise<Checkpoint> {
    this.checkpointOf ??= { copyId: 'live-1', position: 0 };
    return Promise.resolve(this.checkpointOf);
  }
  checkpoint(): Promise<Checkpoint | undefined> {
    return Promise.resolve(this.checkpointOf);
  }
  async commit(_copy: 'live' | 'rebuild', commit: ProjectionCommit<{ total: number }>): Promise<boolean> {
    if (this.checkpointOf?.position !== commit.from.position) return false;
    await commit.apply(this.state, commit.events);
    this.checkpointOf = { copyId: 'live-1', position: commit.to };
    return true;
  }
  swap(): Promise<void> {
    return Promise.reject(new Error('not in this spec'));
  }
  dropRetired(): Promise<void> {
    return Promise.resolve();
  }
  lockRebuild(): Promise<() => Promise<void>> {
    return Promise.resolve(async () => undefined);
  }
  status(): Promise<ProjectionStatus> {
    return Promise.resolve({ rebuildRunning: false });
  }
  skipped(): Promise<never[]> {
    return Promise.resolve([]);
  }
}

@Projection('tally')
class TallyProjection implements ProjectionReadModel<{ total: number }> {
  createReadModel(): Promise<void> {
    return Promise.resolve();
  }

  @OnEvent(TallyCounted)
  onCounted(event: TallyCounted, { tx }: ProjectionContext<{ total: number }>): void {
    tx.total += event.by;
  }
}

async function boot(providers: unknown[], options: Partial<EventBusModuleOptions> = {}) {
  const transport: Transport = new MemoryTransport({ broker: new MemoryBroker({ timeScale: 0 }) });
  const store = new CountingStore();
  const module = await Test.createTestingModule({
    imports: [EventBusModule.forRoot({ service: 'spec', logger: silent, transport, projections: { store: () => store }, ...options })],
    providers: providers as never[],
  }).compile();
  await module.init();
  return { module, transport, store };
}

describe('@Projection discovery', () => {
  it('runs a projection from the event log, and opens no queue for its handlers', async () => {
    const { module, transport, store } = await boot([TallyProjection]);
    try {
      const bus = module.get(Projections);
      expect(bus.names()).toEqual(['tally']);
      await transport.publish([
        {
          specversion: '1.0',
          id: 'e1',
          type: 'spec.tally.counted',
          source: 'spec',
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          dataversion: 1,
          data: { by: 2 },
        },
        {
          specversion: '1.0',
          id: 'e2',
          type: 'spec.tally.counted',
          source: 'spec',
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          dataversion: 1,
          data: { by: 3 },
        },
      ]);
      await bus.whenCaughtUp('tally', 5000);
      expect(store.state.total).toBe(5);
      expect(module.get(EventHandlerExplorer, { strict: false }).explore()).toEqual([]);
    } finally {
      await module.close();
    }
  });

  it('does not follow the log when the module does not consume', async () => {
    const { module } = await boot([TallyProjection], { consume: false });
    try {
      await expect(module.get(Projections).whenCaughtUp('tally', 100)).rejects.toThrow('not running live here');
    } finally {
      await module.close();
    }
  });

  it.each([
    [
      'queue options on a projection handler',
      (() => {
        @Projection('bad-options')
        class BadOptions implements ProjectionReadModel<unknown> {
          createReadModel = (): Promise<void> => Promise.resolve();
          @OnEvent(TallyCounted, { subscription: 'tally' })
          on(): void {}
        }
        return BadOptions;
      })(),
      'do not apply in a projection',
    ],
    [
      'no createReadModel',
      (() => {
        @Projection('no-model')
        class NoModel {
          @OnEvent(TallyCounted)
          on(): void {}
        }
        return NoModel;
      })(),
      'has no createReadModel method',
    ],
    [
      'no handler',
      (() => {
        @Projection('no-handler')
        class NoHandler implements ProjectionReadModel<unknown> {
          createReadModel = (): Promise<void> => Promise.resolve();
        }
        return NoHandler;
      })(),
      'has no @OnEvent method',
    ],
    [
      'two batch methods',
      (() => {
        @Projection('two-batches')
        class TwoBatches implements ProjectionReadModel<unknown> {
          createReadModel = (): Promise<void> => Promise.resolve();
          @OnEvent(TallyCounted)
          on(): void {}
          @OnEventBatch()
          a(): void {}
          @OnEventBatch()
          b(): void {}
        }
        return TwoBatches;
      })(),
      'more than one @OnEventBatch',
    ],
  ])('refuses %s at startup, naming the projection', async (_, projection, message) => {
    const failure = boot([projection]).then(({ module }) => module.close());
    await expect(failure).rejects.toThrow(ConfigurationError);
    await expect(boot([projection])).rejects.toThrow(message);
  });

  it('refuses a projection without a store, or on a transport without an event log', async () => {
    await expect(boot([TallyProjection], { projections: undefined })).rejects.toThrow('needs a store');
    const noLog: Transport = {
      name: 'no-log',
      start: async () => undefined,
      stop: async () => undefined,
      publish: async () => undefined,
      subscribe: async () => undefined,
    };
    await expect(boot([TallyProjection], { transport: noLog })).rejects.toThrow('keeps none');
  });

  it('refuses an invalid projection name at decoration', () => {
    expect(() => Projection('Not A Name')).toThrow(ConfigurationError);
  });
});

describe('Projections at startup', () => {
  it('fails the startup when the live copy cannot be opened', async () => {
    const transport = new MemoryTransport({ broker: new MemoryBroker({ timeScale: 0 }) });
    const store = new CountingStore();
    store.open = () =>
      Promise.reject(
        new ConfigurationError('Schema tally holds tables but is not a copy of projection tally', 'Give it a schema of its own.'),
      );
    const compiled = await Test.createTestingModule({
      imports: [EventBusModule.forRoot({ service: 'spec', logger: silent, transport, projections: { store: () => store } })],
      providers: [TallyProjection],
    }).compile();
    await expect(compiled.init()).rejects.toThrow('is not a copy of projection tally');
    await compiled.close();
  });
});
