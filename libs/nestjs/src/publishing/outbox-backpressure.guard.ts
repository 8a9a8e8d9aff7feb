import { Inject, Injectable, ServiceUnavailableException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { OutboxBackpressure } from '@tidings/core';
import { OUTBOX_BACKPRESSURE } from '../module/event-bus.module-definition.js';

/** Both Express responses and Fastify replies set a header with `header(name, value)`. */
interface HeaderSetter {
  header(name: string, value: string): unknown;
}

/**
 * Answers 503 with `Retry-After` while the outbox backlog is above `outbox.backpressure.maxPending`, so commands that
 * would add events wait instead of growing the backlog without limit. Put it on the routes that write:
 * `@UseGuards(OutboxBackpressureGuard)`. Without `outbox.backpressure` it lets everything through.
 */
@Injectable()
export class OutboxBackpressureGuard implements CanActivate {
  constructor(@Inject(OUTBOX_BACKPRESSURE) private readonly backpressure: OutboxBackpressure | null) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.backpressure) return true;
    const verdict = await this.backpressure.check();
    if (!verdict.overloaded) return true;
    if (context.getType() === 'http') {
      context.switchToHttp().getResponse<HeaderSetter>().header('Retry-After', String(verdict.retryAfterSeconds));
    }
    throw new ServiceUnavailableException({
      statusCode: 503,
      error: 'Service Unavailable',
      message: `${verdict.pending} events are waiting to be published; try again in ${verdict.retryAfterSeconds} s`,
      retryAfterSeconds: verdict.retryAfterSeconds,
    });
  }
}
