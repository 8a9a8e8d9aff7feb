/**
 * The bench's @nestjs/microservices peer (RMQ transport): a worker the bench forks once per scenario, doing each run it
 * is sent in a Nest application of its own (the process, and so the JIT, stays warm across runs, as the bench's own
 * variants do).
 */
import 'reflect-metadata';
import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientsModule,
  Ctx,
  EventPattern,
  Payload,
  RmqContext,
  Transport,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { startClock } from '../../support/stats.js';
import { ACK_GRACE_MS, IN_FLIGHT, inFlight, pause, PAYLOAD, PREFETCH, serve, Tally, type PeerCommand, type PeerRun } from '../protocol.js';

/** The event pattern: the bench's event type, which is also the routing key its queues are bound by. */
const PATTERN = 'bench.order.placed';
const CLIENT = 'BENCH_CLIENT';
const TALLY = Symbol('tally');
const LOG_LEVELS = ['error' as const, 'warn' as const];

@Controller()
class BenchConsumer {
  constructor(@Inject(TALLY) private readonly tally: Tally) {}

  @EventPattern<string>(PATTERN) // the typed-event overloads would type `context` as unknown
  handle(@Payload() _order: unknown, @Ctx() context: RmqContext): void {
    context.getChannelRef().ack(context.getMessage());
    this.tally.add();
  }
}

@Module({})
class ConsumerModule {
  static for(tally: Tally): DynamicModule {
    return { module: ConsumerModule, controllers: [BenchConsumer], providers: [{ provide: TALLY, useValue: tally }] };
  }
}

async function publish(command: PeerCommand): Promise<PeerRun> {
  const queueOptions = { durable: true, arguments: { 'x-queue-type': command.queueType } };
  const clients = ClientsModule.register([
    { name: CLIENT, transport: Transport.RMQ, options: { urls: [command.url], queue: command.queue, queueOptions, persistent: true } },
  ]);
  const app = await NestFactory.createApplicationContext(clients, { logger: LOG_LEVELS });
  const client = app.get<ClientProxy>(CLIENT);
  try {
    await client.connect();
    let count = 0;
    const stop = startClock();
    // emit() publishes at once; its Observable completes on the broker's confirm (amqp-connection-manager's confirm
    // channel), so awaiting it is what a caller that must know the event is stored does.
    await inFlight(command.messages, IN_FLIGHT, async () => {
      await lastValueFrom(client.emit(PATTERN, PAYLOAD), { defaultValue: undefined });
      count++;
    });
    return { count, measurement: stop() };
  } finally {
    await client.close();
    await app.close();
  }
}

async function consume(command: PeerCommand): Promise<PeerRun> {
  const tally = new Tally(command.messages);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(ConsumerModule.for(tally), {
    transport: Transport.RMQ,
    // The bench declared the queue as the Tidings transport does, for raw and every consumer alike: never redeclare it.
    options: { urls: [command.url], queue: command.queue, noAssert: true, noAck: false, prefetchCount: PREFETCH },
    logger: LOG_LEVELS,
  });
  try {
    await app.init();
    // Connected, not yet consuming: where the raw and Tidings consumers start their clock too.
    const connected = app.status.subscribe((status) => status === 'connected' && tally.start());
    await app.listen();
    const measurement = await tally.done;
    connected.unsubscribe();
    await pause(ACK_GRACE_MS);
    return { count: tally.count, measurement };
  } finally {
    await app.close();
  }
}

serve((command) => (command.mode === 'publish' ? publish(command) : consume(command)));
