/**
 * The bench's @golevelup/nestjs-rabbitmq peer: a worker the bench forks once per scenario, doing each run it is sent in a
 * Nest application of its own (the process, and so the JIT, stays warm across runs, as the bench's own variants do).
 */
import 'reflect-metadata';
import { AmqpConnection, RabbitMQModule, RabbitSubscribe, type RabbitMQConfig } from '@golevelup/nestjs-rabbitmq';
import { Inject, Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { startClock } from '../../support/stats.js';
import { ACK_GRACE_MS, IN_FLIGHT, inFlight, pause, PAYLOAD, PREFETCH, serve, Tally, type PeerCommand, type PeerRun } from '../protocol.js';

const TALLY = Symbol('tally');
const LOG_LEVELS = ['error' as const, 'warn' as const];

const rabbit = (command: PeerCommand, handlers: RabbitMQConfig['handlers'] = {}): DynamicModule =>
  RabbitMQModule.forRoot({ uri: command.url, prefetchCount: PREFETCH, handlers });

@Injectable()
class BenchSubscriber implements OnModuleInit {
  constructor(@Inject(TALLY) private readonly tally: Tally) {}

  // Nest runs every onModuleInit after the connection is up and before golevelup's onApplicationBootstrap subscribes
  // the handlers: the point where the raw and Tidings consumers start their clock too (connected, not yet consuming).
  onModuleInit(): void {
    this.tally.start();
  }

  @RabbitSubscribe({ name: 'bench' })
  handle(): void {
    this.tally.add(); // returning acks the message
  }
}

@Module({})
class ConsumerModule {
  static for(command: PeerCommand, tally: Tally): DynamicModule {
    // The bench declared the queue as the Tidings transport does, for raw and every consumer alike: check it, never redeclare it.
    const handlers = { bench: { queue: command.queue, createQueueIfNotExists: false } };
    return {
      module: ConsumerModule,
      imports: [rabbit(command, handlers)],
      providers: [BenchSubscriber, { provide: TALLY, useValue: tally }],
    };
  }
}

async function publish(command: PeerCommand): Promise<PeerRun> {
  const app = await NestFactory.createApplicationContext(rabbit(command), { logger: LOG_LEVELS });
  try {
    const amqp = app.get(AmqpConnection);
    let count = 0;
    const stop = startClock();
    // publish() resolves on the broker's confirm: golevelup's channels are amqp-connection-manager confirm channels.
    await inFlight(command.messages, IN_FLIGHT, async () => {
      await amqp.publish(command.exchange, command.routingKey, PAYLOAD, { persistent: true });
      count++;
    });
    return { count, measurement: stop() };
  } finally {
    await app.close();
  }
}

async function consume(command: PeerCommand): Promise<PeerRun> {
  const tally = new Tally(command.messages);
  const app = await NestFactory.createApplicationContext(ConsumerModule.for(command, tally), { logger: LOG_LEVELS });
  try {
    const measurement = await tally.done;
    await pause(ACK_GRACE_MS);
    return { count: tally.count, measurement };
  } finally {
    await app.close();
  }
}

serve((command) => (command.mode === 'publish' ? publish(command) : consume(command)));
