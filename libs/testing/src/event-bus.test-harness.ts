import type { LoggerService, ModuleMetadata, Provider } from '@nestjs/common';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import { MemoryBroker, MemoryTransport, type EnvelopeOptions, type MemoryDeadLetter, type OutboundMessage } from '@tidings/core';
import { EVENT_BUS_TRANSPORT, EventBus, EventBusModule, type EventBusModuleOptions } from '@tidings/nestjs';
import { importsEventBusModule } from './event-bus-module.finder.js';
import { TrackedSession } from './tracked-session.js';

// Retries and dead letters are what tests provoke on purpose; the session records them instead.
const SILENT_LOGGER: LoggerService = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Options of {@link EventBusTestHarness.create}. */
export interface EventBusTestHarnessOptions {
  /**
   * The modules under test (their `@OnEvent` handlers are subscribed). If they already import
   * `EventBusModule.forRoot` (an application's root module), its transport is replaced by the
   * harness's memory transport and `service`/`eventBus` here are ignored; otherwise the harness adds the module.
   */
  readonly imports?: ModuleMetadata['imports'];
  /** Extra providers for the test module. */
  readonly providers?: Provider[];
  /** The service name of this application. @default 'test' */
  readonly service?: string;
  /**
   * Broker to connect to: share one between harnesses to test several services together.
   * @default a new broker with immediate retries (`timeScale: 0`)
   */
  readonly broker?: MemoryBroker;
  /** Other module options (defaults, maxMessageBytes, inbox, middleware, logger). @default a silent logger */
  readonly eventBus?: Omit<EventBusModuleOptions, 'service' | 'transport'>;
  /** Last chance to override providers (`builder.overrideProvider(...)`). */
  readonly configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** How long `track` waits for everything to settle before failing. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Boots a Nest module on the in-memory transport and lets a test publish and then wait until the
 * event and everything it caused have been handled (or dead-lettered), without sleeps.
 *
 * @example
 * ```ts
 * const harness = await EventBusTestHarness.create({ imports: [NotificationsModule] });
 * const session = await harness.publish(new AnswerAdded('a1', 'q1', 'bob'));
 * expect(session.handledOf('qa.answer.added')).toHaveLength(1);
 * await harness.close();
 * ```
 */
export class EventBusTestHarness {
  private constructor(
    readonly module: TestingModule,
    readonly broker: MemoryBroker,
    private readonly timeoutMs: number,
    private readonly ownsBroker: boolean,
  ) {}

  static async create(options: EventBusTestHarnessOptions = {}): Promise<EventBusTestHarness> {
    const broker = options.broker ?? new MemoryBroker({ timeScale: 0 });
    const transport = new MemoryTransport({ broker });
    const imports = options.imports ?? [];
    const eventBus = (await importsEventBusModule(imports))
      ? []
      : [EventBusModule.forRoot({ logger: SILENT_LOGGER, ...options.eventBus, service: options.service ?? 'test', transport })];
    let builder = Test.createTestingModule({ imports: [...eventBus, ...imports], providers: options.providers ?? [] })
      .overrideProvider(EVENT_BUS_TRANSPORT)
      .useValue(transport);
    if (options.configure) builder = options.configure(builder);
    const module = await builder.compile();
    await module.init();
    return new EventBusTestHarness(module, broker, options.timeoutMs ?? 5000, options.broker === undefined);
  }

  /** The application's publisher. */
  get bus(): EventBus {
    return this.module.get(EventBus);
  }

  /** Shorthand for `module.get`. */
  get<T>(token: abstract new (...args: never[]) => T): T {
    return this.module.get(token);
  }

  /** Publishes events and waits until they and everything they caused have settled. */
  publish(events: object | readonly object[], options?: EnvelopeOptions): Promise<TrackedSession> {
    return this.track(() => this.bus.publish(events, options));
  }

  /** Puts raw bytes on the bus (a malformed or foreign message) and waits until it has settled. */
  publishRaw(message: OutboundMessage): Promise<TrackedSession> {
    return this.track(() => this.broker.publish([message]));
  }

  /**
   * Runs `action` (an HTTP call, a service method...) and resolves once the bus is idle again,
   * with what was published, handled, retried and dead-lettered meanwhile.
   */
  async track(action: () => unknown): Promise<TrackedSession> {
    const session = new TrackedSession();
    const stop = this.broker.observe((event) => session.record(event));
    try {
      await action();
      await this.broker.whenIdle(this.timeoutMs);
    } finally {
      stop();
    }
    return session;
  }

  /** Everything dead-lettered so far, in one subscription or all. */
  deadLetters(subscription?: string): readonly MemoryDeadLetter[] {
    return this.broker.deadLetters(subscription);
  }

  /** Drains the bus (in-flight handlers finish) and closes the module; disposes the broker if the harness made it. */
  async close(): Promise<void> {
    await this.module.close();
    if (this.ownsBroker) this.broker.dispose();
  }
}
