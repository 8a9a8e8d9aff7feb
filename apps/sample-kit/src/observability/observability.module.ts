import { Module, type OnModuleInit } from '@nestjs/common';
import { EventBusMetrics } from '@tidings/nestjs';
import { collectDefaultMetrics } from 'prom-client';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';

/** `GET /health` and `GET /metrics` for a sample service (DESIGN §8); process metrics join the event bus's registry. */
@Module({ controllers: [HealthController, MetricsController] })
export class ObservabilityModule implements OnModuleInit {
  constructor(private readonly metrics: EventBusMetrics) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.metrics.registry });
  }
}
