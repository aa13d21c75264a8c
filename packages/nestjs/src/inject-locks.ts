import { LockManager } from '@cachelock/core'
import { Inject } from '@nestjs/common'

/**
 * Inject the application's `LockManager` (the one `CachelockModule` made). The class itself is the
 * injection token, so with `emitDecoratorMetadata` a parameter typed `LockManager` needs no decorator.
 *
 * ```ts
 * @Injectable()
 * export class Billing {
 *   constructor(@InjectLocks() private readonly locks: LockManager) {}
 * }
 * ```
 */
export function InjectLocks(): PropertyDecorator & ParameterDecorator {
  return Inject(LockManager)
}
