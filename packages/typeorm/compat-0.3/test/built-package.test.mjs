// The built @cachelock/typeorm as an app on TypeORM 0.3 installs it (injected, so its peer is 0.3),
// in plain Node: no vitest, no aliases to the sources. Plain JavaScript, so @LockModel is applied by
// hand and the table is an EntitySchema.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createLockManager, recordLockName } from '@cachelock/core'
import { LockModel, LockedRowError, installModelLocks, lockableRepository } from '@cachelock/typeorm'
import { DataSource, EntitySchema } from 'typeorm'

const require = createRequire(import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'cachelock-compat-'))
after(() => rmSync(dir, { recursive: true, force: true }))

class Product {}
LockModel('sku')(Product)
const schema = new EntitySchema({
  name: 'Product',
  target: Product,
  columns: { id: { type: Number, primary: true, generated: true }, sku: { type: String, unique: true }, stock: { type: Number } },
})

async function open() {
  const locks = createLockManager()
  const dataSource = installModelLocks(
    new DataSource({ type: 'better-sqlite3', database: join(dir, 'db.sqlite'), entities: [schema], synchronize: true }),
    { locks },
  )
  await dataSource.initialize()
  return { locks, dataSource, products: dataSource.getRepository(Product).extend(lockableRepository) }
}

test('runs against TypeORM 0.3 and the current build', () => {
  const peer = require.resolve('typeorm', { paths: [join(require.resolve('@cachelock/typeorm'), '..', '..')] })
  assert.match(readFileSync(join(peer, '..', 'package.json'), 'utf8'), /"version": "0\.3\./)
  const injected = readFileSync(require.resolve('@cachelock/typeorm'), 'utf8')
  const built = readFileSync(fileURLToPath(import.meta.resolve('../../dist/index.cjs')), 'utf8')
  assert.ok(injected === built, 'the injected copy of @cachelock/typeorm is stale: run `pnpm install` after building it')
})

test('ESM and CommonJS entries are one module', () => {
  const cjs = require('@cachelock/typeorm')
  assert.equal(cjs.LockedRowError, LockedRowError)
  assert.equal(cjs.lockableRepository, lockableRepository)
})

test('withLock keeps concurrent decrements exact; the guard rejects another holder', async () => {
  const { locks, dataSource, products } = await open()
  await products.insert({ sku: 'A-1', stock: 20 })
  await Promise.all(
    Array.from({ length: 10 }, () =>
      products.withLock('A-1', async (product, manager) => {
        await new Promise((resolve) => setTimeout(resolve, 2))
        product.stock -= 1
        await manager.save(product)
      }),
    ),
  )
  assert.equal((await products.findOneByOrFail({ sku: 'A-1' })).stock, 10)

  const other = await locks.acquire(recordLockName('product', { sku: 'A-1' }))
  await assert.rejects(products.save({ ...(await products.findOneByOrFail({ sku: 'A-1' })), stock: 0 }), LockedRowError)
  await other.release()

  await dataSource.transaction(async (manager) => {
    await manager.withRepository(products).lock({ sku: 'A-1' }, { until: 'transaction' })
    assert.equal(await products.isLocked('A-1'), true)
  })
  assert.equal(await products.isLocked('A-1'), false)
  await dataSource.destroy()
})
