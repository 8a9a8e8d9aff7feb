import { TidingsError } from './tidings.error.js';

/** An operation was asked of a transport in a state that cannot serve it (stopped, stopping). */
export class TransportStateError extends TidingsError {
  readonly code = 'TIDINGS_TRANSPORT_STATE';

  constructor(transport: string, operation: string, state: string) {
    super(`Cannot ${operation}: transport ${transport} is ${state}`, {
      context: { transport, operation, state },
      hint: 'Start the transport first (the Nest module does it at bootstrap), and do not publish after shutdown began.',
    });
  }
}
