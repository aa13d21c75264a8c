import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openShop, rush } from './shop.js'

// 40 buyers rush a lamp with 10 units left, once with a plain read-check-write and once with
// products.withLock. SQLite file in a temporary directory; locks in memory (one process).
const SKU = 'LAMP-1'
const STOCK = 10
const BUYERS = 40

const dir = mkdtempSync(join(tmpdir(), 'cachelock-inventory-'))
const shop = await openShop(join(dir, 'inventory.db'))

try {
  await shop.restock(SKU, STOCK)
  const unlocked = await rush(shop, SKU, BUYERS, false)
  await shop.restock(SKU, STOCK)
  const locked = await rush(shop, SKU, BUYERS, true)

  console.log(`${BUYERS} buyers, ${STOCK} units of ${SKU} in stock\n`)
  console.table({
    'without locks': { 'told "reserved"': unlocked.reserved, 'reservations made': unlocked.reservations, 'stock left': unlocked.stock },
    'with products.withLock': { 'told "reserved"': locked.reserved, 'reservations made': locked.reservations, 'stock left': locked.stock },
  })
  const oversold = unlocked.reservations - STOCK
  console.log(
    `\nWithout locks: ${oversold > 0 ? `oversold by ${oversold}` : 'not oversold this time (run again)'}, and the stock counter says ${unlocked.stock}.`,
  )
  console.log(`With locks:    exactly ${locked.reservations} reservations, stock ${locked.stock}.`)
  if (locked.reservations !== STOCK || locked.stock !== 0) {
    console.error('The locked run was not exact: this is a bug.')
    process.exitCode = 1
  }
} finally {
  await shop.dataSource.destroy()
  rmSync(dir, { recursive: true, force: true })
}
