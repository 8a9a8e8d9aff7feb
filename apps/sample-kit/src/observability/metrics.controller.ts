import { Controller, Get, Header } from '@nestjs/common';
import { EventBusMetrics } from '@tidings/nestjs';
import { Registry } from 'prom-client';

/** `GET /metrics`: the event bus's metrics and the process's own, in Prometheus text format. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: EventBusMetrics) {}

  @Get()
  @Header('content-type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.metrics();
  }
}
