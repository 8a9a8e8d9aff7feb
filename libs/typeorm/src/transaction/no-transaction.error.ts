import { TidingsError } from '@tidings/core';

/** Code asked for the current transaction outside of one. */
export class NoTransactionError extends TidingsError {
  readonly code = 'TIDINGS_NO_TRANSACTION';

  constructor(what: string) {
    super(`${what} needs a database transaction, and none is active here`, {
      hint: 'Run it inside TransactionContext.run(...) or inside a handler of a transactional subscription, or pass the EntityManager of your transaction explicitly. A timer or an un-awaited callback leaves the transaction.',
    });
  }
}
