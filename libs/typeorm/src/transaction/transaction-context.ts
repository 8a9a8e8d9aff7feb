import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel.js';
import { NoTransactionError } from './no-transaction.error.js';

/**
 * The database transaction of the current async flow, so code deep in a call chain (the outbox, a
 * repository) can join it without an `EntityManager` passed down. One instance per `DataSource`, shared by the outbox
 * and the inbox: on Node 20 an `AsyncLocalStorage` that has run stays enabled for the life of the process, and each one
 * enabled adds to the cost of every promise (measured: a context per run made later benchmark runs up to 2× slower).
 *
 * @example
 * ```ts
 * await transactions.run(async (manager) => {
 *   await manager.save(question);
 *   await outbox.publish(new QuestionAsked(...)); // joins the same transaction
 * });
 * ```
 */
export class TransactionContext {
  private readonly storage = new AsyncLocalStorage<EntityManager>();

  constructor(readonly dataSource: DataSource) {}

  /** Runs `work` in the current transaction, or in a new one committed when `work` resolves (rolled back if it throws). */
  run<T>(work: (manager: EntityManager) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    const current = this.storage.getStore();
    return current ? work(current) : this.begin(work, isolation);
  }

  /** Always starts a new transaction for `work`, even inside another one. */
  begin<T>(work: (manager: EntityManager) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    const inTransaction = (manager: EntityManager): Promise<T> => this.storage.run(manager, () => work(manager));
    return isolation ? this.dataSource.transaction(isolation, inTransaction) : this.dataSource.transaction(inTransaction);
  }

  /** The current transaction's manager, or `undefined` outside of one. */
  current(): EntityManager | undefined {
    return this.storage.getStore();
  }

  /** The current transaction's manager; throws {@link NoTransactionError} outside of one. */
  manager(what = 'This call'): EntityManager {
    const manager = this.storage.getStore();
    if (!manager) throw new NoTransactionError(what);
    return manager;
  }
}
