import type { TidingsLogger } from '@tidings/core';

/** A transport logger that notes when each of its connections (publisher, consumer) was last re-established. */
export class ReconnectClock implements TidingsLogger {
  private readonly reconnected = new Map<string, number>();

  log = (message: string): void => {
    const role = /^RabbitMQ (\w+) connection re-established/.exec(message)?.[1];
    if (role) this.reconnected.set(role, Date.now());
  };
  warn = (): void => undefined;
  error = (): void => undefined;

  /** When the `role` connection was last re-established (`Date.now()`), if it was. */
  reconnectedAt(role: string): number | undefined {
    return this.reconnected.get(role);
  }
}
