import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  ConfigurationError,
  ErrorClassifier,
  EventTypeRegistry,
  findEventDefinition,
  type ProjectionDefinition,
  type ProjectionHandler,
} from '@tidings/core';
import { ON_EVENT_METADATA, type OnEventMetadata } from '../decorators/on-event.decorator.js';
import { findProjectionMetadata, ON_EVENT_BATCH_METADATA, type ProjectionOptions } from './projection.decorator.js';

/** A projection found at bootstrap: its definition for the core, and its options. */
export interface DiscoveredProjection {
  readonly definition: ProjectionDefinition<unknown>;
  readonly options: ProjectionOptions;
}

type Method = (...args: unknown[]) => unknown;

/** Finds `@Projection` classes among the application's providers and turns each into a projection definition. */
@Injectable()
export class ProjectionExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: EventTypeRegistry,
  ) {}

  explore(): DiscoveredProjection[] {
    const found = new Map<string, DiscoveredProjection & { className: string }>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias) continue;
      const metadata = findProjectionMetadata(instance.constructor);
      if (!metadata) continue;
      const className = instance.constructor.name;
      const other = found.get(metadata.name);
      if (other) {
        throw new ConfigurationError(
          `Two projections are named ${metadata.name}: ${other.className} and ${className}`,
          'Give each @Projection a name of its own; it names its checkpoint and its copies.',
        );
      }
      found.set(metadata.name, { className, ...this.describe(metadata.name, metadata.options, instance, className) });
    }
    return [...found.values()].map(({ definition, options }) => ({ definition, options }));
  }

  private describe(name: string, options: ProjectionOptions, instance: object, className: string): DiscoveredProjection {
    const prototype = Object.getPrototypeOf(instance) as object;
    const methods = instance as Record<string, unknown>;
    const handlers: ProjectionHandler<unknown>[] = [];
    let applyBatch: Method | undefined;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = methods[methodName];
      if (typeof method !== 'function') continue;
      const where = `${className}.${methodName}`;
      if (Reflect.getMetadata(ON_EVENT_BATCH_METADATA, method)) {
        if (applyBatch)
          throw new ConfigurationError(`Projection ${name} has more than one @OnEventBatch method`, 'Keep one.', { projection: name });
        applyBatch = (method as Method).bind(instance);
      }
      const onEvent = Reflect.getMetadata(ON_EVENT_METADATA, method) as OnEventMetadata | undefined;
      if (onEvent) handlers.push(this.handler(name, where, onEvent, (method as Method).bind(instance)));
    }
    const createReadModel = methods['createReadModel'];
    if (typeof createReadModel !== 'function') {
      throw new ConfigurationError(
        `Projection ${name} (${className}) has no createReadModel method`,
        'Implement ProjectionReadModel: createReadModel(tx) creates the read model tables in a new copy.',
        { projection: name },
      );
    }
    if (handlers.length === 0) {
      throw new ConfigurationError(`Projection ${name} (${className}) has no @OnEvent method`, 'Handle at least one event class.', {
        projection: name,
      });
    }
    const seen = new Map<string, string>();
    for (const handler of handlers) {
      const other = seen.get(handler.event.type);
      if (other) {
        throw new ConfigurationError(
          `Projection ${name} handles ${handler.event.type} twice: ${other} and ${handler.name}`,
          'Handle each event type in one method; declare older versions with upcasters on the event class.',
          { projection: name },
        );
      }
      seen.set(handler.event.type, handler.name);
    }
    const definition: ProjectionDefinition<unknown> = {
      name,
      handlers,
      createReadModel: (tx) => (createReadModel as Method).call(instance, tx) as Promise<void>,
      classifier: new ErrorClassifier({ deadLetterOn: options.skipOn ?? [], retryOn: options.retryOn ?? [] }),
      ...(applyBatch && { applyBatch }),
    };
    return { definition, options };
  }

  private handler(projection: string, where: string, metadata: OnEventMetadata, handle: Method): ProjectionHandler<unknown> {
    const { event, options } = metadata;
    if (typeof event !== 'function' || !findEventDefinition(event)) {
      throw new ConfigurationError(
        `${where}: a projection handler must name an @IntegrationEvent class`,
        'Projections apply known event types from the log; topic patterns are for subscriptions.',
        { projection },
      );
    }
    const queueOptions = Object.keys(options);
    if (queueOptions.length > 0) {
      throw new ConfigurationError(
        `${where}: @OnEvent options (${queueOptions.join(', ')}) do not apply in a projection`,
        'A projection reads the event log, not a queue: configure it with @Projection options instead.',
        { projection },
      );
    }
    return { name: where, event: this.registry.register(event), handle };
  }
}
