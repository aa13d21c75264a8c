import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, LockNotAcquiredError, Locked, configure, createLockManager, type LockManager } from '@cachelock/core'

// The same class, compiled by TypeScript itself in each decorator mode: standard (TC39) decorators
// and `experimentalDecorators` (TypeORM's mode), so both code paths of @Locked run for real.
const source = `
class Billing {
  constructor() { this.seen = [] }
  @Locked(undefined, { locks })
  async closeMonth(probe) { return probe() }

  @Locked(function (id) { return 'invoice:' + id + ':' + this.tenant }, { locks })
  async pay(id, probe) { return probe() }

  @Locked(undefined, { locks, ifAvailable: true })
  async once(wait) { await wait }

  @Locked(undefined, { locks })
  static async nightly(probe) { return probe() }

  @Locked('fixed')
  async usesDefaultManager(probe) { return probe() }

  // The manager the instance was given, as a DI container would give it.
  @Locked('own', { locks: (self) => self.own })
  async ownManager(probe) { return probe() }

  @Locked('own-this', { locks: function () { return this.own } })
  async ownManagerThis(probe) { return probe() }

  @Locked('own-static', { locks: (cls) => cls.own })
  static async ownStatic(probe) { return probe() }
}
Billing.prototype.tenant = 't1'
class Subscription extends Billing {}
exports.Billing = Billing
exports.Subscription = Subscription
`

function compile(experimentalDecorators: boolean, locks: LockManager) {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators },
  })
  const exports: Record<string, any> = {}
  // The code is TypeScript's own output for the source above: evaluating it is the point.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('exports', 'Locked', 'locks', outputText)(exports, Locked, locks)
  return exports as { Billing: any; Subscription: any }
}

for (const mode of ['standard', 'experimental'] as const) {
  describe(`@Locked with ${mode} decorators`, () => {
    const locks = createLockManager()
    const { Billing, Subscription } = compile(mode === 'experimental', locks)
    const heldNames = async () => (await locks.query()).held.map((h) => h.name)

    it('defaults the key to ClassName.methodName, also when called on a subclass', async () => {
      expect(await new Billing().closeMonth(heldNames)).toEqual(['Billing.closeMonth'])
      expect(await new Subscription().closeMonth(heldNames)).toEqual(['Billing.closeMonth'])
      expect(await Billing.nightly(heldNames)).toEqual(['Billing.nightly'])
    })

    it('computes the key from the arguments, with `this` bound', async () => {
      expect(await new Billing().pay(42, heldNames)).toEqual(['invoice:42:t1'])
    })

    it('excludes concurrent calls', async () => {
      const billing = new Billing()
      let inside = 0
      let most = 0
      const probe = async () => {
        most = Math.max(most, ++inside)
        await new Promise((resolve) => setTimeout(resolve, 5))
        inside--
      }
      await Promise.all([billing.closeMonth(probe), billing.closeMonth(probe), new Subscription().closeMonth(probe)])
      expect(most).toBe(1)
    })

    it('rejects with LockNotAcquiredError under ifAvailable when taken', async () => {
      const billing = new Billing()
      let release!: () => void
      const first = billing.once(new Promise<void>((resolve) => (release = resolve)))
      await new Promise((resolve) => setTimeout(resolve, 5))
      await expect(billing.once(Promise.resolve())).rejects.toBeInstanceOf(LockNotAcquiredError)
      release()
      await first
    })

    it('uses the configured default manager when none is given', async () => {
      const fallback = configure({ prefix: `decorator-${mode}:` })
      expect(await new Billing().usesDefaultManager(async () => (await fallback.query()).held.map((h) => h.name))).toEqual(['fixed'])
    })

    it('resolves `locks` from the instance: as the argument, and as `this`', async () => {
      const own = createLockManager()
      const ownHeld = async () => (await own.query()).held.map((h) => h.name)
      const billing = new Billing()
      billing.own = own
      expect(await billing.ownManager(ownHeld)).toEqual(['own'])
      expect(await billing.ownManagerThis(ownHeld)).toEqual(['own-this'])
      Billing.own = own
      expect(await Billing.ownStatic(ownHeld)).toEqual(['own-static'])
      // Each instance its own manager: the lookup happens per call, on that call's instance.
      const other = new Billing()
      other.own = createLockManager()
      expect(await other.ownManager(async () => (await other.own.query()).held.map((h: any) => h.name))).toEqual(['own'])
    })

    it('rejects, naming `options.locks()`, when the instance has no manager', async () => {
      const error = await new Billing().ownManager(heldNames).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect((error as InvalidLockArgumentError).argument).toBe('options.locks()')
    })
  })
}
