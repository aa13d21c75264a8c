import 'reflect-metadata'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { Locked, createLockManager, type LockManager } from '@cachelock/core'

// Frameworks built on reflect-metadata keep what they read on the method function: NestJS's
// @Post/@Cron/@UseGuards do `Reflect.defineMetadata(key, value, descriptor.value)`, and read it back
// from `prototype[method]`. `Route` below does exactly that, in whichever mode it is compiled;
// `Reflect.metadata` is reflect-metadata's own decorator (it keeps metadata on the prototype and
// the property key). Each is applied above @Locked and below it, and must be found either way.
const source = `
const route = (path) => function (first, second, descriptor) {
  const fn = descriptor ? descriptor.value : first
  Reflect.defineMetadata('route:path', path, fn)
  const prior = Reflect.getMetadata('route:guards', fn) ?? []
  Reflect.defineMetadata('route:guards', [...prior, path], fn)
  fn.handlerTag = 'tag:' + path
  return descriptor
}
class Shop {
  @Locked(undefined, { locks })
  @route('/above')
  async lockedAbove(a, b) { return 'above' }

  @route('/below')
  @Locked(undefined, { locks })
  async lockedBelow(a, b) { return 'below' }

  @route('/outer')
  @Locked(undefined, { locks })
  @route('/inner')
  async between() { return 'between' }

  @Locked(undefined, { locks })
  @route('/static')
  static async fromClass() { return 'static' }
}
exports.Shop = Shop
`
const legacyOnly = `
class Roles {
  @Locked(undefined, { locks })
  @Reflect.metadata('role', 'admin')
  async above() {}

  @Reflect.metadata('role', 'clerk')
  @Locked(undefined, { locks })
  async below() {}
}
exports.Roles = Roles
`

function compile(code: string, experimentalDecorators: boolean, locks: LockManager) {
  const { outputText } = ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators },
  })
  const exports: Record<string, any> = {}
  // The code is TypeScript's own output for the source above: evaluating it is the point.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('exports', 'Locked', 'locks', outputText)(exports, Locked, locks)
  return exports
}

const read = (key: string, fn: unknown) => Reflect.getMetadata(key, fn as object)

for (const mode of ['standard', 'experimental'] as const) {
  describe(`@Locked keeps method metadata with ${mode} decorators`, () => {
    const locks = createLockManager()
    const { Shop } = compile(source, mode === 'experimental', locks)

    it('finds metadata set by a decorator below @Locked on the locked method', async () => {
      expect(read('route:path', Shop.prototype.lockedAbove)).toBe('/above')
      expect(Shop.prototype.lockedAbove.handlerTag).toBe('tag:/above')
      expect(read('route:path', Shop.fromClass)).toBe('/static')
      // and the method is still the locked one
      expect(await new Shop().lockedAbove()).toBe('above')
      expect(await Shop.fromClass()).toBe('static')
    })

    it('finds metadata set by a decorator above @Locked', () => {
      expect(read('route:path', Shop.prototype.lockedBelow)).toBe('/below')
    })

    it('keeps metadata from both sides, in order, when decorators stack around @Locked', () => {
      expect(read('route:guards', Shop.prototype.between)).toEqual(['/inner', '/outer'])
      expect(read('route:path', Shop.prototype.between)).toBe('/outer')
    })

    it('keeps the method’s name and arity', () => {
      expect(Shop.prototype.lockedAbove.name).toBe('lockedAbove')
      expect(Shop.prototype.lockedAbove.length).toBe(2)
    })

    it('still runs under the lock', async () => {
      const names: string[] = []
      const shop = new Shop()
      const original = locks.withLock.bind(locks)
      locks.withLock = ((name: string, fn: any, options: any) => {
        names.push(name)
        return original(name, fn, options)
      }) as typeof locks.withLock
      await shop.lockedAbove()
      await shop.lockedBelow()
      expect(names).toEqual(['Shop.lockedAbove', 'Shop.lockedBelow'])
    })
  })
}

describe('@Locked with reflect-metadata’s own decorator (experimentalDecorators)', () => {
  const { Roles } = compile(legacyOnly, true, createLockManager())

  it('keeps metadata kept on the prototype and property, in either order', () => {
    expect(Reflect.getMetadata('role', Roles.prototype, 'above')).toBe('admin')
    expect(Reflect.getMetadata('role', Roles.prototype, 'below')).toBe('clerk')
  })
})
