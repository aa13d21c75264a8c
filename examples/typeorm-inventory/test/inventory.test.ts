import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { openShop, rush } from '../src/shop.js'

const dir = mkdtempSync(join(tmpdir(), 'cachelock-inventory-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

it('oversells without locks and sells exactly the stock with them', async () => {
  const shop = await openShop(join(dir, 'inventory.db'))
  await shop.restock('LAMP-1', 5)
  const unlocked = await rush(shop, 'LAMP-1', 20, false)
  expect(unlocked.reservations).toBeGreaterThan(5)

  await shop.restock('LAMP-1', 5)
  const locked = await rush(shop, 'LAMP-1', 20, true)
  expect(locked).toEqual({ reserved: 5, reservations: 5, stock: 0 })
  await shop.dataSource.destroy()
})
