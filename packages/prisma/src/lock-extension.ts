import { Prisma } from '@prisma/client/extension'
import { ExtensionState, type ModelCall, type PrismaClientLike } from './extension-state.js'
import { refuseAfterLoss } from './lock-scope.js'
import { fencedOperations, fenceWrites } from './fenced-writes.js'
import type { ModelsOptions } from './model-options-types.js'
import { resolveExtensionOptions, type LockExtensionOptions } from './options.js'
import { isRecordLocked, lockRecord } from './record-lock.js'
import type { LockExtension } from './types.js'
import { withLock } from './with-lock.js'

/**
 * The Prisma Client extension: per-record locks on every model.
 *
 * ```ts
 * const db = prisma.$extends(lockExtension({ locks, models: { Product: { by: 'sku' } } }))
 * await db.order.withLock(42, async (order, { tx }) => tx.order.update({ where: { id: order.id }, data: { ... } }))
 * ```
 *
 * Apply it last (after your other extensions) and create it inside `$extends(...)`: `fn`'s `tx`
 * then carries the other extensions and is typed as your client, and `models` is checked against
 * it (model names, `by` a unique field, `fence` an integer field).
 */
export function lockExtension<C = unknown, const M extends ModelsOptions<C> = ModelsOptions<C>>(
  options?: Omit<LockExtensionOptions, 'models'> & { models?: M },
): LockExtension<C, M> {
  const resolved = resolveExtensionOptions(options as LockExtensionOptions | undefined)
  const extension = Prisma.defineExtension((client) => {
    const base = client as unknown as PrismaClientLike
    const state = new ExtensionState(resolved, base)
    // Hooks cost every query they are installed on (Prisma clones its arguments and wraps it in two
    // more promises), so the client the app uses has only those that can act on it: the fencing
    // hook, on the writes of fenced models. The rest live on the client withLock runs fn with.
    const query = Object.fromEntries(
      state.fencedModels.map((model) => {
        const fence = fenceWrites(state, model)
        return [model.property, Object.fromEntries(fencedOperations.map((operation) => [operation, fence]))]
      }),
    )
    state.client = base.$extends({
      name: '@cachelock/prisma',
      model: {
        $allModels: {
          // A failure to identify the model rejects too, instead of throwing. Not an async function:
          // withLock is one, and a second around it costs every call three more promises.
          withLock(this: unknown, where: unknown, fn: unknown, options?: unknown): Promise<unknown> {
            let call: ModelCall
            try {
              call = state.call(this)
            } catch (error) {
              return Promise.reject(error)
            }
            return withLock(call, where, fn, options)
          },
          // async, so that even a failure to identify the model rejects instead of throwing.
          async lock(this: unknown, where: unknown, options?: unknown) {
            return lockRecord(state.call(this), where, options)
          },
          async isLocked(this: unknown, where: unknown) {
            return isRecordLocked(state.call(this), where)
          },
        },
      },
      query,
    })
    state.scoped = state.client.$extends({ name: '@cachelock/prisma:scope', query: { $allOperations: refuseAfterLoss(state) } })
    return state.client as never
  })
  return extension as unknown as LockExtension<C, M>
}
