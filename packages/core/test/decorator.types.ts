import { expectTypeOf } from 'vitest'
import { Locked, type LockManager } from '@cachelock/core'

// Compile-time checks of @Locked's types with standard decorators (this package's mode), run by
// `tsc` (`pnpm typecheck`), never by vitest: Node 20 cannot run standard decorator syntax and the
// test transform does not lower it. decorator.test.ts runs the same shapes compiled by TypeScript;
// @cachelock/nestjs's tests type-check them with experimentalDecorators.
export class Billing {
  constructor(private readonly locks: LockManager) {}

  @Locked('close', { locks: (self: Billing) => self.locks })
  async close(): Promise<string> {
    return 'closed'
  }

  @Locked((id: number) => `invoice:${id}`, {
    locks: function (this: Billing) {
      return this.locks
    },
    timeout: 5000,
  })
  async pay(id: number): Promise<number> {
    return id
  }

  @Locked()
  static async nightly(day: string): Promise<string> {
    return day
  }

  // @ts-expect-error on `timout`: a misspelt option is reported on the option
  @Locked('export', { timout: 5000 })
  async export(): Promise<void> {}
}

expectTypeOf<Billing['pay']>().toEqualTypeOf<(id: number) => Promise<number>>()
expectTypeOf<(typeof Billing)['nightly']>().toEqualTypeOf<(day: string) => Promise<string>>()
