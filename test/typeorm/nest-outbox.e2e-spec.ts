import 'reflect-metadata';
import { Global, Inject, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  eventually,
  EventEnveloper,
  IntegrationEvent,
  MemoryTransport,
  OutboxRelay,
  type EventContext,
  type OutboundMessage,
} from '@tidings/core';
import { EventBusModule, OnEvent, OUTBOX_RELAY } from '@tidings/nestjs';
import { TransactionContext, TypeOrmInboxStore, TypeOrmOutbox, TypeOrmOutboxStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';
import { silentLogger } from '../rabbitmq/rabbitmq-conformance.target.js';
import { testDatabase, type TestDatabase } from './outbox-database.js';

// A service that commits a state change and its event together, a transactional handler that records an
// effect and publishes a follow-up through the outbox in the same transaction, and a plain handler.

@IntegrationEvent('nest-outbox.order.placed')
class OrderPlaced {
  constructor(readonly orderId: string) {}
}

@IntegrationEvent('nest-outbox.invoice.issued')
class InvoiceIssued {
  constructor(readonly orderId: string) {}
}

const SCHEMA = Symbol('schema');

@Injectable()
class Orders {
  constructor(
    private readonly outbox: TypeOrmOutbox,
    @Inject(SCHEMA) private readonly schema: string,
  ) {}

  /** The order row and its event commit together, or neither does. */
  async place(orderId: string, failAfterWrite = false): Promise<void> {
    await this.outbox.transactions.run(async (manager) => {
      await manager.query(`INSERT INTO "${this.schema}".orders (id) VALUES ($1)`, [orderId]);
      await this.outbox.publish(new OrderPlaced(orderId), { partitionKey: orderId });
      if (failAfterWrite) throw new Error('payment declined');
    });
  }
}

@Injectable()
class Billing {
  runs = 0;

  constructor(
    private readonly outbox: TypeOrmOutbox,
    @Inject(SCHEMA) private readonly schema: string,
  ) {}

  @OnEvent(OrderPlaced, { transactional: true })
  async onOrderPlaced(event: OrderPlaced, context: EventContext): Promise<void> {
    this.runs += 1;
    const manager = this.outbox.transactions.manager();
    await manager.query(`INSERT INTO "${this.schema}".invoices (order_id) VALUES ($1)`, [event.orderId]);
    await this.outbox.publish(new InvoiceIssued(event.orderId), { causedBy: context.envelope });
  }
}

@Injectable()
class Mailer {
  readonly sent: string[] = [];

  @OnEvent(InvoiceIssued)
  onInvoiceIssued(event: InvoiceIssued): void {
    this.sent.push(event.orderId);
  }
}

function appModule(db: TestDatabase, dataSource: DataSource, transport: MemoryTransport) {
  const transactions = new TransactionContext(dataSource);
  const store = new TypeOrmOutboxStore(dataSource, { schema: db.schema });

  @Global()
  @Module({
    providers: [
      { provide: DataSource, useValue: dataSource },
      { provide: TransactionContext, useValue: transactions },
      { provide: SCHEMA, useValue: db.schema },
    ],
    exports: [DataSource, TransactionContext, SCHEMA],
  })
  class DatabaseModule {}

  @Module({
    imports: [
      DatabaseModule,
      EventBusModule.forRootAsync({
        useFactory: (source: DataSource, context: TransactionContext) => ({
          service: 'shop',
          transport,
          inbox: new TypeOrmInboxStore(source, { schema: db.schema, transactions: context }),
          outbox: { store, relay: { pollIntervalMs: 200 } },
          logger: silentLogger,
        }),
        inject: [DataSource, TransactionContext],
      }),
    ],
    providers: [
      {
        provide: TypeOrmOutbox,
        useFactory: (enveloper: EventEnveloper, context: TransactionContext) => new TypeOrmOutbox(store, enveloper, context),
        inject: [EventEnveloper, TransactionContext],
      },
      Orders,
      Billing,
      Mailer,
    ],
  })
  class AppModule {}
  return AppModule;
}

describe('EventBusModule with the TypeORM outbox and inbox', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let transport: MemoryTransport;

  beforeEach(async () => {
    db = await testDatabase('nestobx');
    const dataSource = await db.connect(8);
    await dataSource.query(`CREATE TABLE "${db.schema}".orders (id text PRIMARY KEY)`);
    await dataSource.query(`CREATE TABLE "${db.schema}".invoices (order_id text NOT NULL)`);
    transport = new MemoryTransport();
    app = await NestFactory.createApplicationContext(appModule(db, dataSource, transport), { logger: false });
    await app.init();
  });

  afterEach(async () => {
    await app.close();
    await db.dispose();
  });

  it('commits state and event together, handles once through the inbox, and publishes the follow-up atomically', async () => {
    const orders = app.get(Orders);
    await orders.place('o-1');
    await orders.place('o-2');
    await expect(orders.place('o-3', true)).rejects.toThrow('payment declined');
    const mailer = app.get(Mailer);
    await eventually(() => expect([...mailer.sent].sort()).toEqual(['o-1', 'o-2']));

    // A redelivery of a handled OrderPlaced (the broker's at-least-once) is skipped by the inbox: no second invoice.
    const log = transport.eventLog;
    if (!log) throw new Error('the memory transport keeps a log by default');
    let first: OutboundMessage | undefined;
    for await (const entry of log.read(0)) {
      first = entry.message;
      break;
    }
    if (!first) throw new Error('nothing was published');
    transport.broker.publish([first]);
    await transport.broker.whenIdle();
    const billing = app.get(Billing);
    expect(billing.runs).toBe(2);
    const dataSource = app.get(DataSource);
    const invoices: { order_id: string }[] = await dataSource.query(`SELECT order_id FROM "${db.schema}".invoices ORDER BY order_id`);
    expect(invoices.map((r) => r.order_id)).toEqual(['o-1', 'o-2']);

    const relay = app.get<OutboxRelay | null>(OUTBOX_RELAY);
    await eventually(() => expect(relay?.stats()).toMatchObject({ state: 'running', published: 4, failedAttempts: 0 }));
    expect(await relay?.lag()).toMatchObject({ pending: 0, due: 0, oldestDueAgeMs: 0 });
  });
});

describe('EventBusModule transactional subscriptions, misconfigured', () => {
  it('fails at startup naming the subscription', async () => {
    @Injectable()
    class Handler {
      @OnEvent(OrderPlaced, { transactional: true })
      handle(): void {}
    }
    @Module({
      imports: [EventBusModule.forRoot({ service: 'shop', transport: new MemoryTransport(), logger: silentLogger })],
      providers: [Handler],
    })
    class AppModule {}
    // createApplicationContext runs init (and so the bootstrap hooks) itself.
    await expect(NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false })).rejects.toThrow(
      /shop\.handler\.handle \(Handler\.handle\) is transactional, but EventBusModule has no inbox/,
    );
  });

  it('fails at startup when the inbox forgets handled messages before the retry schedule ends', async () => {
    const db = await testDatabase('nestret');
    const dataSource = await db.connect(2);
    try {
      @Injectable()
      class Handler {
        @OnEvent(OrderPlaced, { transactional: true, retry: { maxAttempts: 4, tiersMs: [1000, 60_000] } })
        handle(): void {}
      }
      @Module({
        imports: [
          EventBusModule.forRoot({
            service: 'shop',
            transport: new MemoryTransport(),
            inbox: new TypeOrmInboxStore(dataSource, { schema: db.schema, retainHandledMs: 60_000 }),
            logger: silentLogger,
          }),
        ],
        providers: [Handler],
      })
      class AppModule {}
      await expect(NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false })).rejects.toThrow(
        'Subscription shop.handler.handle may retry a message for up to 180000 ms, longer than the inbox keeps handled messages (60000 ms)',
      );
    } finally {
      await db.dispose();
    }
  });
});
