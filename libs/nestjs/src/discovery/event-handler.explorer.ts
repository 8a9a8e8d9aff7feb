import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ConfigurationError } from '@tidings/core';
import { ON_EVENT_METADATA, type OnEventMetadata } from '../decorators/on-event.decorator.js';
import type { HandlerDescriptor } from './handler.descriptor.js';
import { findProjectionMetadata } from '../projection/projection.decorator.js';

/** Finds `@OnEvent` methods on the application's providers, through Nest's public discovery API. */
@Injectable()
export class EventHandlerExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** How many providers of the application are instances of `type`. */
  countInstancesOf(type: abstract new (...args: never[]) => unknown): number {
    return this.discovery.getProviders().filter((wrapper) => !wrapper.isAlias && wrapper.instance instanceof type).length;
  }

  explore(): HandlerDescriptor[] {
    const found: HandlerDescriptor[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      // A projection's handlers read the event log, not a queue: the ProjectionExplorer takes them.
      if (!prototype || findProjectionMetadata(instance.constructor)) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const metadata = Reflect.getMetadata(ON_EVENT_METADATA, method) as OnEventMetadata | undefined;
        if (!metadata) continue;
        const className = instance.constructor.name;
        const name = `${className}.${methodName}`;
        if (!wrapper.isDependencyTreeStatic()) {
          throw new ConfigurationError(
            `Event handler ${name} belongs to a request-scoped provider`,
            'Event handlers run outside HTTP requests: make the provider (and what it injects) singleton-scoped.',
            { handler: name },
          );
        }
        found.push({
          ...metadata,
          name,
          className,
          methodName,
          handle: (data, context) => method.call(instance, data, context),
          handleBatch: (events) => method.call(instance, events),
        });
      }
    }
    return found;
  }
}
