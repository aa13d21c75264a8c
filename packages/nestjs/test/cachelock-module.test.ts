import 'reflect-metadata'
import { InvalidLockArgumentError, LockManager, createLockManager } from '@cachelock/core'
import { CachelockModule, InjectLocks } from '@cachelock/nestjs'
import { Injectable, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { REDIS_URL, sleep, uniquePrefix } from './support/app.js'

@Injectable()
class ByType {
  constructor(readonly locks: LockManager) {}
}

@Injectable()
class ByDecorator {
  constructor(@InjectLocks() readonly locks: LockManager) {}
}

// A feature module that does not import CachelockModule: the manager reaches it because the module is global.
@Module({ providers: [ByType, ByDecorator] })
class FeatureModule {}

@Injectable()
class Settings {
  readonly url = REDIS_URL
}
@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

const create = (module: unknown) => NestFactory.createApplicationContext(module as never, { logger: false, abortOnError: false })

/** Another process on the same Redis and prefix. */
const observers: LockManager[] = []
function observer(prefix: string) {
  const locks = createLockManager({ store: REDIS_URL, prefix })
  observers.push(locks)
  return locks
}
afterAll(() => Promise.all(observers.map((locks) => locks.close())))

describe('CachelockModule.forRoot', () => {
  it('provides one LockManager, global, on the configured store and prefix', async () => {
    const prefix = uniquePrefix('root')
    @Module({ imports: [CachelockModule.forRoot({ store: REDIS_URL, prefix, ttl: 5000 }), FeatureModule] })
    class AppModule {}
    const app = await create(AppModule)
    try {
      const locks = app.get(LockManager)
      expect(app.get(ByType).locks).toBe(locks)
      expect(app.get(ByDecorator).locks).toBe(locks)
      expect(locks.prefix).toBe(prefix)
      // Held here, seen by another client of the same Redis under the same prefix.
      await locks.withLock('visible', async () => expect(await observer(prefix).isLocked('visible')).toBe(true))
    } finally {
      await app.close()
    }
  })

  it('is not global with isGlobal: false', async () => {
    @Module({ imports: [CachelockModule.forRoot({ store: 'memory://', isGlobal: false }), FeatureModule] })
    class AppModule {}
    await expect(create(AppModule)).rejects.toThrow(/LockManager/)
  })

  it('takes the store from CACHELOCK_URL when none is given', async () => {
    const saved = process.env.CACHELOCK_URL
    process.env.CACHELOCK_URL = REDIS_URL
    const prefix = uniquePrefix('env')
    @Module({ imports: [CachelockModule.forRoot({ prefix })] })
    class AppModule {}
    try {
      const app = await create(AppModule)
      await app.get(LockManager).withLock('from-env', async () => expect(await observer(prefix).isLocked('from-env')).toBe(true))
      await app.close()
    } finally {
      if (saved === undefined) delete process.env.CACHELOCK_URL
      else process.env.CACHELOCK_URL = saved
    }
  })

  describe('with NODE_ENV=production and no store', () => {
    const saved = { env: process.env.NODE_ENV, url: process.env.CACHELOCK_URL }
    afterEach(() => {
      process.env.NODE_ENV = saved.env
      if (saved.url === undefined) delete process.env.CACHELOCK_URL
      else process.env.CACHELOCK_URL = saved.url
    })

    it('refuses to start rather than lock in-process', async () => {
      process.env.NODE_ENV = 'production'
      delete process.env.CACHELOCK_URL
      @Module({ imports: [CachelockModule.forRoot({})] })
      class AppModule {}
      const error = await create(AppModule).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect((error as InvalidLockArgumentError).argument).toBe('options.store')
    })
  })

  it('refuses bad options at startup, naming them', async () => {
    @Module({ imports: [CachelockModule.forRoot({ store: 'memory://', timout: 5 } as never)] })
    class Typo {}
    await expect(create(Typo)).rejects.toMatchObject({ argument: 'options.timout' })
    @Module({ imports: [CachelockModule.forRoot({ store: 'memory://', shutdownTimeout: -1 })] })
    class Negative {}
    await expect(create(Negative)).rejects.toMatchObject({ argument: 'options.shutdownTimeout' })
  })
})

describe('CachelockModule.forRootAsync', () => {
  it('builds the options with injected providers', async () => {
    const prefix = uniquePrefix('async')
    @Module({
      imports: [
        CachelockModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({ store: settings.url, prefix }),
        }),
        FeatureModule,
      ],
    })
    class AppModule {}
    const app = await create(AppModule)
    try {
      const locks = app.get(ByDecorator).locks
      await locks.withLock('async', async () => expect(await observer(prefix).isLocked('async')).toBe(true))
    } finally {
      await app.close()
    }
  })
})

describe('application shutdown', () => {
  it('waits for held locks to be released, then closes the store', async () => {
    const prefix = uniquePrefix('drain')
    @Module({ imports: [CachelockModule.forRoot({ store: REDIS_URL, prefix })] })
    class AppModule {}
    const app = await create(AppModule)
    const locks = app.get(LockManager)
    let finished = false
    let entered!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const work = locks.withLock('in-flight', async () => {
      entered()
      await sleep(300)
      finished = true
    })
    await inside
    await app.close()
    // The work ran to its end, its lock was released in the store, and only then was it closed.
    expect(finished).toBe(true)
    await work
    expect(await observer(prefix).isLocked('in-flight')).toBe(false)
    await expect(locks.isLocked('in-flight')).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
  })

  it('stops waiting after shutdownTimeout and leaves a lock still in use to its ttl', async () => {
    const prefix = uniquePrefix('timeout')
    @Module({ imports: [CachelockModule.forRoot({ store: REDIS_URL, prefix, ttl: 3000, shutdownTimeout: 200 })] })
    class AppModule {}
    const app = await create(AppModule)
    const locks = app.get(LockManager)
    let release!: () => void
    let entered!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const work = locks
      .withLock('stuck', (lock) => {
        entered()
        return new Promise<void>((resolve) => (release = resolve)).then(() => lock.signal.aborted)
      })
      .catch((error: unknown) => error)
    await inside
    const started = performance.now()
    await app.close()
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    // Not released behind the back of the work that still holds it: other clients keep waiting.
    expect(await observer(prefix).isLocked('stuck')).toBe(true)
    release()
    await work
  })
})
