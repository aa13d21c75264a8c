import type {
  EntitySubscriberInterface,
  InsertEvent,
  RecoverEvent,
  RemoveEvent,
  SoftRemoveEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  UpdateEvent,
} from 'typeorm'
import type { GuardedOperation } from './errors.js'
import { guardWrite } from './guard.js'
import { endTransactionLocks } from './transaction-row-locks.js'
import { releaseTransactionLocks, transactionLocks } from './owned-locks.js'
import type { Installation } from './registry.js'

type EntityEvent = InsertEvent<any> | UpdateEvent<any> | RemoveEvent<any> | SoftRemoveEvent<any> | RecoverEvent<any>

/**
 * The subscriber `installModelLocks` adds to a data source (as an instance: TypeORM constructs
 * subscriber classes without arguments, and this one needs the installation's settings).
 *
 * - Entity writes (save, remove, soft-remove, recover, and inserts through `insert()` too) of a
 *   `@LockModel` entity go through `guardWrite`. Writes by criteria (`update(criteria, …)`,
 *   `delete(criteria)`, query builders, raw SQL) reach subscribers without their rows, so they are
 *   not guarded; TypeORM gives no way to see which rows they touch.
 * - `{ until: 'transaction' }` locks are confirmed held before their transaction commits (a lost
 *   one throws `LockLostError` there, and TypeORM rolls back), and released after it commits or
 *   rolls back.
 */
export class ModelLockSubscriber implements EntitySubscriberInterface {
  readonly #installation: Installation

  constructor(installation: Installation) {
    this.#installation = installation
  }

  beforeInsert(event: InsertEvent<any>): Promise<void> {
    return this.#guard('insert', event, event.entity, undefined)
  }

  beforeUpdate(event: UpdateEvent<any>): Promise<void> | void {
    // A query-builder update (`update(criteria, values)`) arrives with its values as `entity` and
    // no loaded row: which rows it touches is unknown here, so it cannot be guarded.
    if (!event.databaseEntity) return
    return this.#guard('update', event, event.entity, event.databaseEntity)
  }

  beforeRemove(event: RemoveEvent<any>): Promise<void> {
    return this.#guard('remove', event, event.entity, event.databaseEntity)
  }

  beforeSoftRemove(event: SoftRemoveEvent<any>): Promise<void> {
    return this.#guard('soft-remove', event, event.entity, event.databaseEntity)
  }

  beforeRecover(event: RecoverEvent<any>): Promise<void> {
    return this.#guard('recover', event, event.entity, event.databaseEntity)
  }

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const { queryRunner } = event
    // Only the outermost commit makes the work durable; a savepoint release is not the end.
    if (depthOf(queryRunner) > 1) return
    for (const handle of transactionLocks(queryRunner)) await handle.ensureHeld()
  }

  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    if (event.queryRunner.isTransactionActive) return
    endTransactionLocks(event.queryRunner)
    await releaseTransactionLocks(event.queryRunner)
  }

  async afterTransactionRollback(event: TransactionRollbackEvent): Promise<void> {
    if (event.queryRunner.isTransactionActive) return
    endTransactionLocks(event.queryRunner)
    await releaseTransactionLocks(event.queryRunner)
  }

  #guard(operation: GuardedOperation, event: EntityEvent, entity: unknown, databaseEntity: unknown): Promise<void> {
    return guardWrite(this.#installation, {
      operation,
      metadata: event.metadata,
      entity: entity ?? undefined,
      databaseEntity: databaseEntity ?? undefined,
      manager: event.queryRunner.manager,
    })
  }
}

// TypeORM keeps the savepoint depth in a protected field of every query runner (0.3 and 1.x alike).
function depthOf(queryRunner: object): number {
  return (queryRunner as { transactionDepth?: number }).transactionDepth ?? 1
}
