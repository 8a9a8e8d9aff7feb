import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { IntegrationEvent, NonRetryableError, type ProjectionContext, type Transport } from '@tidings/core';
import { EventBusModule, OnEvent, Projection, Projections, type ProjectionReadModel } from '@tidings/nestjs';
import { TypeOrmProjectionStore, type TypeOrmProjectionTx } from '@tidings/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';

// A small projection for the library's own end-to-end tests: points per player. Its handler is deliberately not
// idempotent (total = total + points), so any event applied twice, or lost, shows in the totals.

/** Version 1 of the event said `player` and `score`; version 2 says `playerId` and `points`. */
export interface ScoreRecordedV1 {
  readonly player: string;
  readonly score: number;
}

@IntegrationEvent('e2e.score.recorded', {
  version: 2,
  schema: z.object({ playerId: z.string().min(1), points: z.number().int() }),
  upcasters: { 1: (data) => ({ playerId: (data as ScoreRecordedV1).player, points: (data as ScoreRecordedV1).score }) },
})
export class ScoreRecorded {
  constructor(
    readonly playerId: string,
    readonly points: number,
  ) {}
}

/** A player whose events the handler refuses, deterministically: they must be skipped and recorded, never retried. */
export const BANNED = 'banned';

@Projection('scores', { batchSize: 200 })
export class ScoresProjection implements ProjectionReadModel<TypeOrmProjectionTx> {
  async createReadModel({ manager, schema }: TypeOrmProjectionTx): Promise<void> {
    await manager.query(`CREATE TABLE "${schema}".scores (player_id text PRIMARY KEY, total integer NOT NULL, events integer NOT NULL)`);
  }

  @OnEvent(ScoreRecorded)
  async onScore(event: ScoreRecorded, { tx }: ProjectionContext<TypeOrmProjectionTx>): Promise<void> {
    if (event.playerId === BANNED) throw new NonRetryableError(`player ${BANNED} may not score`);
    await tx.manager.query(
      `INSERT INTO "${tx.schema}".scores (player_id, total, events) VALUES ($1, $2, 1)
       ON CONFLICT (player_id) DO UPDATE SET total = scores.total + EXCLUDED.total, events = scores.events + 1`,
      [event.playerId, event.points],
    );
  }
}

@Module({})
class ScoresModule {
  static forRoot(transport: Transport, dataSource: DataSource, schema: string): DynamicModule {
    return {
      module: ScoresModule,
      imports: [
        EventBusModule.forRoot({
          service: 'scores',
          transport,
          projections: { store: (projection) => new TypeOrmProjectionStore(dataSource, { projection, schema }) },
        }),
      ],
      providers: [ScoresProjection],
    };
  }
}

/** A running application with the scores projection, and what the tests read of it. */
export interface ScoresApp {
  readonly projections: Projections;
  /** Total points per player, as the live copy holds them. */
  totals(): Promise<Record<string, number>>;
  /** Events applied, over all players. */
  applied(): Promise<number>;
  close(): Promise<void>;
}

/** Starts the application on `transport` (started by the app), with its own pool to `databaseUrl`. */
export async function startScores(transport: Transport, databaseUrl: string, schema: string): Promise<ScoresApp> {
  const dataSource = new DataSource({ type: 'postgres', url: databaseUrl, poolSize: 4 });
  await dataSource.initialize();
  const app: INestApplicationContext = await NestFactory.createApplicationContext(ScoresModule.forRoot(transport, dataSource, schema), {
    logger: false,
  });
  const rows = (): Promise<Array<{ player_id: string; total: number; events: number }>> =>
    dataSource.query(`SELECT player_id, total, events FROM "${schema}".scores ORDER BY player_id`);
  return {
    projections: app.get(Projections),
    totals: async () => Object.fromEntries((await rows()).map((r) => [r.player_id, r.total])),
    applied: async () => (await rows()).reduce((sum, r) => sum + r.events, 0),
    close: async () => {
      await app.close();
      await dataSource.destroy();
    },
  };
}
