/** `up` when the part can do its work now. */
export type HealthStatus = 'up' | 'down';

/** The health of one part (the broker, the outbox). */
export interface ComponentHealth {
  readonly status: HealthStatus;
  /** One line for people. */
  readonly detail: string;
}

/** The outbox's part: its backlog and the relay that drains it. */
export interface OutboxHealth extends ComponentHealth {
  /** Records waiting to be published (due or scheduled); absent when the store could not be read. */
  readonly pending?: number;
  /** How long the oldest due record has waited; absent when the store could not be read. */
  readonly oldestDueAgeMs?: number;
}

/** What {@link EventBusHealth.check} finds: `down` when any part is down. */
export interface EventBusHealthReport {
  readonly status: HealthStatus;
  readonly broker: ComponentHealth;
  /** Present when the module runs an outbox relay. */
  readonly outbox?: OutboxHealth;
}
