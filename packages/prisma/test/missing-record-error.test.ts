import { expect, test, vi } from 'vitest'
import { lockExtension } from '@cachelock/prisma'
import { onEveryDatabaseAndStore } from './helpers/matrix.js'

/** What `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => expect.unreachable(`resolved with ${String(value)}`),
    (error: unknown) => error,
  )
}

const allow = "Pass { missing: 'allow' } to lock a row that does not exist yet."

onEveryDatabaseAndStore('missing_record_error', (setup) => {
  test('a missing record rejects with Prisma’s own P2025, saying what withLock did and how to lock a row to be created', async () => {
    const { db } = setup()
    const fn = vi.fn()
    const prismaError = await rejection(db.user.findUniqueOrThrow({ where: { email: 'nobody@example.com' } }))
    const error = await rejection(db.user.withLock({ email: 'nobody@example.com' }, fn))
    // The app's "P2025 → 404" handling keeps working: same class, code and client version.
    expect(error).toBeInstanceOf((prismaError as object).constructor)
    expect(error).toMatchObject({
      code: 'P2025',
      clientVersion: (prismaError as { clientVersion: string }).clientVersion,
      meta: { modelName: 'User', lockName: 'user:email:nobody@example.com' },
      cause: { code: 'P2025' },
    })
    expect((error as Error).message).toBe(`No User record found where {"email":"nobody@example.com"}: withLock did not call fn. ${allow}`)
    expect(fn).not.toHaveBeenCalled()
    // As the message says: with missing: 'allow', fn runs with null.
    expect(await db.user.withLock({ email: 'nobody@example.com' }, async (user) => user, { missing: 'allow' })).toBeNull()
  })

  test('a bigint key is printed with its n and a Bytes key in hex (Buffer or Uint8Array alike), as the lock names them', async () => {
    const { db } = setup()
    const id = 2n ** 63n - 1n // past Number.MAX_SAFE_INTEGER: only a bigint names it
    const byId = await rejection(db.transfer.withLock(id, vi.fn()))
    expect(byId).toMatchObject({ code: 'P2025', meta: { lockName: `transfer:id:${id}` } })
    expect((byId as Error).message).toBe(`No Transfer record found where {"id":"${id}n"}: withLock did not call fn. ${allow}`)

    for (const ref of [new Uint8Array([0xde, 0xad, 0xbe, 0xef]), Buffer.from('deadbeef', 'hex')]) {
      const byRef = await rejection(db.transfer.withLock({ ref }, vi.fn()))
      expect(byRef).toMatchObject({ code: 'P2025', meta: { lockName: 'transfer:ref:0xdeadbeef' } })
      expect((byRef as Error).message).toBe(`No Transfer record found where {"ref":"0xdeadbeef"}: withLock did not call fn. ${allow}`)
    }
    // Found, the same keys read the row.
    await db.transfer.create({ data: { id, ref: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), amount: 5 } })
    expect(await db.transfer.withLock({ ref: Buffer.from('deadbeef', 'hex') }, (transfer) => transfer.id)).toBe(id)
  })

  test('an error of the read that is not Prisma’s not-found passes through untouched', async () => {
    const { prisma, locks } = setup()
    const notFound = await rejection(prisma.user.findUniqueOrThrow({ where: { email: 'nobody@example.com' } }))
    const PrismaError = (notFound as object).constructor as new (message: string, params: object) => Error
    const { clientVersion } = notFound as { clientVersion: string }
    /** An error of the app's own kind, made by its constructor's single argument (a string breaks it). */
    class AppNotFound extends Error {
      readonly code = 'P2025'
      readonly clientVersion = 'app'
      constructor(details: { model: string }) {
        super(`${details.model.toUpperCase()} not found`)
      }
    }
    const thrown: unknown[] = [
      new PrismaError('Transaction failed due to a write conflict', { code: 'P2034', clientVersion }), // Prisma's, another code
      Object.assign(new Error('gone'), { code: 'P2025' }), // P2025, but not Prisma's (no clientVersion)
      new AppNotFound({ model: 'user' }), // looks like Prisma's, but cannot be made again with a message
      new Error('connection reset'),
      null,
    ]
    for (const error of thrown) {
      // The app's own query extension, applied before the lock extension as the README says.
      const db = prisma
        .$extends({
          query: {
            user: {
              findUniqueOrThrow: () => Promise.reject(error as Error),
            },
          },
        })
        .$extends(lockExtension({ locks }))
      const fn = vi.fn()
      expect(await rejection(db.user.withLock({ email: 'ada@example.com' }, fn))).toBe(error)
      expect(fn).not.toHaveBeenCalled()
      expect(await db.user.isLocked({ email: 'ada@example.com' })).toBe(false)
    }
  })
})
