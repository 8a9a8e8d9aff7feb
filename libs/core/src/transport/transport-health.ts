/**
 * Whether a transport can do its work now, for health checks: `healthy` is false while the broker is unreachable,
 * a connection is recovering, or the broker refuses publishes (a resource alarm).
 */
export interface TransportHealth {
  readonly healthy: boolean;
  /** One line for people, e.g. `publisher connected, consumer reconnecting`. */
  readonly detail: string;
}
