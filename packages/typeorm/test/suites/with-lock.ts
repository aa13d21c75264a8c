import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, LockNotAcquiredError, LockNotOwnedError, channelNames } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { LockedRowError, withModelLock } from '@cachelock/typeorm'
import type { Env } from '../support/env.js'
import { deferred, recordEvents, rejection, sleep, unique } from '../support/helpers.js'

/** Issue 7: withLock, lock(), isLocked, withModelLock. */
export function withLockSuite(env: Env) {
  const newProduct = async (stock = 10) => {
    const sku = unique()
    await env.repos.products.insert({ sku, stock })
    return sku
  }
  const stockOf = async (sku: string) => (await env.repos.products.findOneByOrFail({ sku })).stock

  describe('withLock', () => {
    it('keeps concurrent decrements exact, across two processes; without it they are lost', async () => {
      const other = await env.process()
      const flows = 16
      const locked = await newProduct(50)
      await Promise.all(
        Array.from({ length: flows }, (_, i) =>
          (i % 2 ? other : env).repos.products.withLock(locked, async (product, manager) => {
            await sleep(2) // a request doing other work between its read and its write
            product.stock -= 1
            await manager.save(product)
          }),
        ),
      )
      expect(await stockOf(locked)).toBe(50 - flows)

      // The same read-modify-write with no lock: concurrent requests overwrite each other.
      const unlocked = await newProduct(50)
      await Promise.all(
        Array.from({ length: flows }, async () => {
          const product = await env.repos.products.findOneByOrFail({ sku: unlocked })
          await sleep(2)
          product.stock -= 1
          await env.repos.products.save(product)
        }),
      )
      expect(await stockOf(unlocked)).toBeGreaterThan(50 - flows)
    })

    it("resolves with fn's result, runs fn in a transaction, and releases the lock", async () => {
      const sku = await newProduct()
      const result = await env.repos.products.withLock(sku, async (product, manager, lock) => {
        expect(manager.queryRunner?.isTransactionActive).toBe(true)
        expect(lock.name).toBe(`product:sku:${sku}`)
        expect(await env.repos.products.isLocked({ sku })).toBe(true)
        return { stock: product.stock }
      })
      expect(result).toEqual({ stock: 10 })
      expect(await env.repos.products.isLocked({ sku })).toBe(false)
    })

    it('rolls back and releases when fn throws', async () => {
      const sku = await newProduct()
      const failure = new Error('payment declined')
      const error = await rejection(
        env.repos.products.withLock({ sku }, async (product, manager) => {
          product.stock = 0
          await manager.save(product)
          throw failure
        }),
      )
      expect(error).toBe(failure)
      expect(await stockOf(sku)).toBe(10)
      expect(await env.repos.products.isLocked({ sku })).toBe(false)
    })

    it('rejects a missing row with EntityNotFoundError before fn runs, leaving no lock', async () => {
      const sku = unique('absent')
      let called = false
      const error = await rejection(env.repos.products.withLock({ sku }, () => void (called = true)))
      expect(error).toBeInstanceOf(env.orm.EntityNotFoundError)
      expect(called).toBe(false)
      expect(await env.repos.products.isLocked({ sku })).toBe(false)
    })

    it('runs without a transaction with transaction: false', async () => {
      const sku = await newProduct()
      await env.repos.products.withLock(
        sku,
        async (product, manager) => {
          expect(manager.queryRunner?.isTransactionActive ?? false).toBe(false)
          product.stock = 7
          await manager.save(product)
        },
        { transaction: false },
      )
      expect(await stockOf(sku)).toBe(7)
    })

    it('locks several rows in sorted order and hands them over in the order given', async () => {
      const [a, b] = [await newProduct(1), await newProduct(2)].sort()
      const { events, result } = await recordEvents(channelNames.acquired, () =>
        env.repos.products.withLock([{ sku: b! }, a!], async (rows, _manager, locks) => ({
          skus: rows.map((row) => row.sku),
          lockNames: locks.map((lock) => lock.name),
        })),
      )
      expect(result.skus).toEqual([b, a])
      expect(result.lockNames).toEqual([`product:sku:${b}`, `product:sku:${a}`])
      expect(events.map((event) => event.name)).toEqual([`product:sku:${a}`, `product:sku:${b}`])
      // Two flows taking the same rows in opposite orders cannot deadlock.
      await Promise.all(Array.from({ length: 10 }, (_, i) => env.repos.products.withLock(i % 2 ? [a!, b!] : [b!, a!], () => sleep(1))))
    })

    it('is reentrant in one flow; a nested call on another row joins the outer transaction', async () => {
      const [a, b] = [await newProduct(), await newProduct()]
      const error = await rejection(
        env.repos.products.withLock(a, async (product, manager) => {
          await env.repos.products.withLock(a, async (same) => expect(same.id).toBe(product.id))
          await env.repos.products.withLock(b, async (other, inner) => {
            other.stock = 0
            await inner.save(other)
          })
          product.stock = 0
          await manager.save(product)
          throw new Error('undo everything')
        }),
      )
      expect(error.message).toBe('undo everything')
      expect([await stockOf(a), await stockOf(b)]).toEqual([10, 10])
    })

    it("holds a nested call's lock until the outer transaction commits, so nobody reads the row's old value", async () => {
      const [a, b] = [await newProduct(), await newProduct(10)]
      const other = await env.process()
      let nestedReturned!: () => void
      const returned = new Promise<void>((resolve) => (nestedReturned = resolve))
      let otherRead: number | undefined
      const outer = env.repos.products.withLock(a, async () => {
        await env.repos.products.withLock(b, async (row, inner) => {
          row.stock = 3
          await inner.save(row)
        })
        nestedReturned()
        await sleep(50) // the outer transaction is still open: b's new stock is not committed
      })
      await returned
      // Another process wanting b must wait for the outer commit, then sees the committed value.
      await other.repos.products.withLock(b, async (row) => {
        otherRead = row.stock
      })
      await outer
      expect(otherRead).toBe(3)
    })

    it('refuses to run in a transaction the caller started (it would release before that commit)', async () => {
      const sku = await newProduct()
      const error = await rejection(
        env.dataSource.transaction((manager) => manager.withRepository(env.repos.products).withLock(sku, () => undefined)),
      )
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect(error.code).toBe('LOCK_NOT_SUPPORTED')
      expect(error.message).toContain("until: 'transaction'")
      expect(await env.repos.products.isLocked(sku)).toBe(false)
      // The manager withLock hands to fn is its own transaction: nested calls through it join.
      await env.repos.products.withLock(sku, (_, manager) => manager.withRepository(env.repos.products).withLock(sku, () => undefined))
    })

    it('passes core options through (timeout, ifAvailable)', async () => {
      const sku = await newProduct()
      const held = deferred()
      const holder = env.repos.products.withLock(sku, () => held.promise)
      await sleep(20)
      const timedOut = await rejection(env.repos.products.withLock(sku, () => undefined, { timeout: 30 }))
      expect(timedOut).toBeInstanceOf(LockNotAcquiredError)
      expect(await rejection(env.repos.products.withLock(sku, () => undefined, { ifAvailable: true }))).toBeInstanceOf(LockNotAcquiredError)
      held.resolve()
      await holder
    })
  })

  describe('lock() and isLocked()', () => {
    it('returns a plain handle that holds the row until released; run(fn) makes fn its holder', async () => {
      const sku = await newProduct()
      const handle = await env.repos.products.lock({ sku }, { timeout: 2000 })
      expect(handle.name).toBe(recordLockName('product', { sku }))
      expect(await env.repos.products.isLocked({ sku })).toBe(true)
      // Another process is kept out...
      const other = await env.process()
      expect(await rejection(other.repos.products.withLock(sku, () => undefined, { timeout: 30 }))).toBeInstanceOf(LockNotAcquiredError)
      // ...and so is this flow, which called lock() but is not inside the handle's scope.
      expect(await rejection(env.repos.products.withLock(sku, () => undefined, { timeout: 30 }))).toBeInstanceOf(LockNotAcquiredError)
      const product = await env.repos.products.findOneByOrFail({ sku })
      product.stock = 3
      expect(await rejection(env.repos.products.save(product))).toBeInstanceOf(LockedRowError)
      // Inside run(fn), fn is the holder: nested withLock reuses the lock, saves pass the guard.
      const result = await handle.run(async () => {
        expect(await env.repos.products.withLock(sku, (row) => row.sku)).toBe(sku)
        await env.repos.products.save(product)
        return 'ran'
      })
      expect(result).toBe('ran')
      expect(handle.held).toBe(true) // run() does not release it
      await handle.release()
      expect(await env.repos.products.isLocked({ sku })).toBe(false)
      expect(await stockOf(sku)).toBe(3)
      expect(await rejection(handle.run(() => undefined))).toBeInstanceOf(LockNotOwnedError)
    })

    it('refuses to wait for a lock this flow already holds', async () => {
      const sku = await newProduct()
      await env.repos.products.withLock(sku, async () => {
        const error = await rejection(env.repos.products.lock({ sku }))
        expect(error.code).toBe('LOCK_NOT_SUPPORTED')
      })
    })
  })

  describe('withModelLock', () => {
    // With several installed data sources (this file opens more than one) it is told which one;
    // finding the only one is tested in install.test.ts.
    it('locks the row named by the instance, reads it fresh, and works by primary key', async () => {
      const sku = await newProduct(10)
      const stale = await env.repos.products.findOneByOrFail({ sku })
      await env.repos.products.update({ sku }, { stock: 4 })
      const seen = await withModelLock(
        stale,
        async (fresh, manager, lock) => {
          expect(lock.name).toBe(`product:sku:${sku}`)
          fresh.stock -= 1
          await manager.save(fresh)
          return fresh.stock
        },
        { dataSource: env.dataSource },
      )
      expect(seen).toBe(3)

      const order = await env.repos.orders.save(env.repos.orders.create({ id: Math.floor(Math.random() * 1e9), status: 'new' }))
      const name = await withModelLock(
        order,
        async (fresh, manager, lock) => {
          fresh.status = 'paid'
          await manager.save(fresh)
          return lock.name
        },
        { dataSource: env.dataSource },
      )
      expect(name).toBe(`order:id:${order.id}`)
      expect((await env.repos.orders.findOneByOrFail({ id: order.id })).status).toBe('paid')
    })
  })
}
