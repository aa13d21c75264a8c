import 'reflect-metadata'
import { InvalidLockArgumentError, LockError, LockManager, LockNotAcquiredError, createLockManager } from '@cachelock/core'
import { CachelockModule, InjectLocks, WithLock } from '@cachelock/nestjs'
import { Injectable, Module, type INestApplicationContext, type LoggerService } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, sleep, uniquePrefix } from './support/app.js'

/** State the two "instances" share, as a database would. */
const shared = { count: 0, inside: 0, most: 0, jobRuns: [] as string[] }

/** A gate a test opens to let a held call finish. */
let gate: Promise<void> = Promise.resolve()

@Injectable()
class Counter {
  constructor(@InjectLocks() readonly locks: LockManager) {}

  /** A read-modify-write across an await: loses updates unless calls are excluded. */
  @WithLock('counter')
  async bump(): Promise<number> {
    shared.most = Math.max(shared.most, ++shared.inside)
    const seen = shared.count
    await sleep(2)
    shared.count = seen + 1
    shared.inside--
    return shared.count
  }

  @WithLock((id: number) => `invoice:${id}`)
  async pay(id: number): Promise<boolean> {
    return this.locks.isLocked(`invoice:${id}`)
  }

  @WithLock('job', { skipIfLocked: true })
  async job(instance: string): Promise<string> {
    await gate
    shared.jobRuns.push(instance)
    return `ran on ${instance}`
  }

  @WithLock('tick', { skipIfLocked: true, holdAtLeast: 1500 })
  async tick(instance: string): Promise<string> {
    shared.jobRuns.push(instance)
    return instance
  }

  /** A short ttl: renewed every 200 ms, so a steal elsewhere is noticed well within the hold. */
  @WithLock('report', { skipIfLocked: true, holdAtLeast: 5000, ttl: 600 })
  async report(): Promise<string> {
    return 'reported'
  }

  @WithLock('slow', { timeout: 50 })
  async impatient(): Promise<void> {}

  @WithLock('slow', { ifAvailable: true, holdAtLeast: 1000 })
  async impatientHolding(): Promise<void> {}

  @WithLock('failing')
  async failing(): Promise<never> {
    throw new Error('boom')
  }
}

const debugLines: string[] = []
const warnLines: string[] = []
const logger: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: (message: unknown) => void warnLines.push(String(message)),
  debug: (message: unknown) => void debugLines.push(String(message)),
}

const prefix = uniquePrefix('with-lock')
@Module({ imports: [CachelockModule.forRoot({ store: REDIS_URL, prefix })], providers: [Counter] })
class AppModule {}

// Two instances of the application on one Redis, as two pods would be.
let a: INestApplicationContext
let b: INestApplicationContext
const counterA = () => a.get(Counter)
const counterB = () => b.get(Counter)

beforeAll(async () => {
  a = await NestFactory.createApplicationContext(AppModule, { logger })
  b = await NestFactory.createApplicationContext(AppModule, { logger })
})
afterAll(() => Promise.all([a?.close(), b?.close()]))

describe('@WithLock', () => {
  it('takes the lock in the injected manager, under its prefix', async () => {
    expect(counterA().locks).toBe(a.get(LockManager))
    expect(counterA().locks).not.toBe(counterB().locks)
    expect(await counterA().pay(42)).toBe(true)
    const other = createLockManager({ store: REDIS_URL, prefix })
    try {
      let release!: () => void
      const held = other.withLock('invoice:7', () => new Promise<void>((resolve) => (release = resolve)))
      await expect.poll(() => other.isLocked('invoice:7')).toBe(true)
      // Waits for the other client's lock: same store, same prefix, same name.
      let paid = false
      const paying = counterA()
        .pay(7)
        .then(() => (paid = true))
      await sleep(100)
      expect(paid).toBe(false)
      release()
      await Promise.all([held, paying])
    } finally {
      await other.close()
    }
  })

  it('excludes concurrent calls across instances: no lost update', async () => {
    shared.count = 0
    shared.most = 0
    const calls = Array.from({ length: 40 }, (_, i) => (i % 2 ? counterA() : counterB()).bump())
    await Promise.all(calls)
    expect(shared.count).toBe(40)
    expect(shared.most).toBe(1)
  })

  it('gives up with LockNotAcquiredError after its timeout', async () => {
    let release!: () => void
    let holding!: () => void
    const granted = new Promise<void>((resolve) => (holding = resolve))
    const held = counterA().locks.withLock('slow', () => {
      holding()
      return new Promise<void>((resolve) => (release = resolve))
    })
    // A holds it before B asks: the two instances reach Redis on connections of their own, in either order.
    await granted
    await expect(counterB().impatient()).rejects.toBeInstanceOf(LockNotAcquiredError)
    // With holdAtLeast too: ifAvailable still rejects rather than wait or skip.
    await expect(counterB().impatientHolding()).rejects.toBeInstanceOf(LockNotAcquiredError)
    release()
    await held
  })

  it('rejects with the method’s error, and releases the lock', async () => {
    await expect(counterA().failing()).rejects.toThrow('boom')
    expect(await counterA().locks.isLocked('failing')).toBe(false)
  })
})

describe('@WithLock with skipIfLocked', () => {
  it('skips the call, quietly, while another instance runs the job', async () => {
    shared.jobRuns = []
    debugLines.length = 0
    let open!: () => void
    gate = new Promise((resolve) => (open = resolve))
    const first = counterA().job('a')
    await expect.poll(() => counterB().locks.isLocked('job')).toBe(true)
    expect(await counterB().job('b')).toBeUndefined()
    expect(debugLines.some((line) => line.includes('Counter.job') && line.includes('"job"'))).toBe(true)
    open()
    expect(await first).toBe('ran on a')
    expect(shared.jobRuns).toEqual(['a'])
    // Free again: the next call runs wherever it is made.
    expect(await counterB().job('b')).toBe('ran on b')
  })

  it('with holdAtLeast, keeps the lock after a short job so a late instance skips the same tick', async () => {
    shared.jobRuns = []
    expect(await counterA().tick('a')).toBe('a')
    // The call has its result; the lock is still held, and the other instance skips.
    expect(await counterB().locks.isLocked('tick')).toBe(true)
    expect(await counterB().tick('b')).toBeUndefined()
    expect(shared.jobRuns).toEqual(['a'])
    // Once the hold is over, the next tick runs.
    await expect.poll(() => counterB().tick('b'), { timeout: 5000, interval: 100 }).toBe('b')
  })

  it('with holdAtLeast, logs a warning when the lock is lost during the hold (here: stolen by another client)', async () => {
    warnLines.length = 0
    expect(await counterA().report()).toBe('reported')
    const other = createLockManager({ store: REDIS_URL, prefix })
    try {
      await other.request('report', { steal: true }, () => undefined)
      await expect.poll(() => warnLines.length, { timeout: 3000 }).toBe(1)
      expect(warnLines[0]).toMatch(/^The lock "report" of Counter\.report was lost during its holdAtLeast/)
      expect(warnLines[0]).toMatch(/LockLostError/)
      expect(warnLines[0]).not.toMatch(/Releasing/)
    } finally {
      await other.close()
    }
  })
})

describe('@WithLock misuse', () => {
  it('rejects a call on an instance Nest did not create, rather than lock in-process', async () => {
    const error = await new Counter(createLockManager()).bump().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockError)
    expect((error as Error).message).toMatch(/Counter: no LockManager was injected/)
  })

  it('refuses bad options when the class is defined, naming them', () => {
    const refused = (options: object) => {
      try {
        WithLock('x', options)
      } catch (error) {
        return error instanceof InvalidLockArgumentError ? error.argument : error
      }
      return 'accepted'
    }
    expect(refused({ skipIfLocked: true, timeout: 100 })).toBe('options.timeout')
    expect(refused({ skipIfLocked: true, ifAvailable: true })).toBe('options.ifAvailable')
    expect(refused({ skipIfLocked: 'yes' })).toBe('options.skipIfLocked')
    expect(refused({ holdAtLeast: -1 })).toBe('options.holdAtLeast')
    expect(refused({ timout: 100 })).toBe('options.timout')
    expect(refused({ ttl: 0 })).toBe('options.ttl')
  })

  it('refuses a static method and standard decorators', () => {
    const decorator = WithLock('x')
    const method = async () => undefined
    expect(() => decorator(class {}, 'x', { value: method })).toThrow(InvalidLockArgumentError)
    expect(() => (decorator as any)(method, { kind: 'method', name: 'x', static: false })).toThrow(/experimentalDecorators/)
  })
})
