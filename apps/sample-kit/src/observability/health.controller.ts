import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { EventBusHealth, type ComponentHealth, type HealthStatus } from '@tidings/nestjs';
import { DataSource } from 'typeorm';
import { databaseHealth } from './database.health.js';

/** What `GET /health` answers: `down` (and HTTP 503) when any part is down. */
export interface ServiceHealthReport {
  readonly status: HealthStatus;
  readonly checks: Readonly<Record<string, ComponentHealth>>;
}

/** `GET /health`: the broker, the database and, for a service with an outbox, how far behind its relay is. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly bus: EventBusHealth,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  @Get()
  async health(): Promise<ServiceHealthReport> {
    const [bus, database] = await Promise.all([this.bus.check(), databaseHealth(this.dataSource)]);
    const checks: Record<string, ComponentHealth> = { broker: bus.broker, database, ...(bus.outbox && { outbox: bus.outbox }) };
    const status = Object.values(checks).every((check) => check.status === 'up') ? 'up' : 'down';
    const report: ServiceHealthReport = { status, checks };
    // The same body either way, so load balancers read the code and people read the reasons.
    if (status === 'down') throw new ServiceUnavailableException(report);
    return report;
  }
}
