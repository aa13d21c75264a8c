import { defaultLockManager } from '@cachelock/core'
import { openDatabase } from './db.ts'

// An order service: several workers add items to the same orders at once. Adding an item reads
// the order, looks the price up (a slow call), and writes the new total: a read-modify-write.
const ORDERS = 3
const WORKERS = 4
const ITEMS = 10 // per worker and order
const PRICE = 5
const EXPECTED = WORKERS * ITEMS * PRICE

const db = await openDatabase()
const priceLookup = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 5))

/** Without a lock: two workers read the same total, and the second write overwrites the first. */
async function addItem(orderId: number) {
  const order = await db.order.findUniqueOrThrow({ where: { id: orderId } })
  await priceLookup()
  await db.order.update({ where: { id: orderId }, data: { total: order.total + PRICE } })
}

/** With a lock: the same code in db.order.withLock, which reads the order fresh under the lock. */
async function addItemLocked(orderId: number) {
  await db.order.withLock(orderId, async (order, { tx }) => {
    await priceLookup()
    await tx.order.update({ where: { id: orderId }, data: { total: order.total + PRICE } })
  })
}

async function run(label: string, add: (orderId: number) => Promise<void>) {
  const orders = await Promise.all(Array.from({ length: ORDERS }, (_, i) => db.order.create({ data: { customer: `customer ${i + 1}` } })))
  const started = performance.now()
  const worker = async () => {
    for (let item = 0; item < ITEMS; item++) for (const order of orders) await add(order.id)
  }
  await Promise.all(Array.from({ length: WORKERS }, worker))
  const ms = performance.now() - started

  const totals = await db.order.findMany({ where: { id: { in: orders.map((order) => order.id) } }, orderBy: { id: 'asc' } })
  const lost = totals.reduce((sum, order) => sum + (EXPECTED - order.total) / PRICE, 0)
  const shown = totals.map((order) => `$${order.total}`.padEnd(5)).join(' ')
  const verdict = lost === 0 ? 'none lost' : `${lost} of ${ORDERS * WORKERS * ITEMS} updates lost`
  console.log(`${label.padEnd(16)} ${shown}  ${verdict.padEnd(24)} (${Math.round(ms)} ms)`)
}

const store = process.env.CACHELOCK_URL ? new URL(process.env.CACHELOCK_URL).protocol.slice(0, -1) : 'memory'
console.log(`${ORDERS} orders, ${WORKERS} workers each adding ${ITEMS} items of $${PRICE} to every order (SQLite, ${store} lock store).`)
console.log(`Every order should end at $${EXPECTED}.\n`)
await run('without a lock', addItem)
await run('with withLock', addItemLocked)
await db.$disconnect()
await defaultLockManager().close()
