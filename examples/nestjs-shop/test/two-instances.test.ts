import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { createLockManager } from '@cachelock/core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { prepareDatabase } from '../src/shop/database.js'

// The shop as it is deployed: two instances, each its own Node process started with `pnpm start`'s
// command, sharing one SQLite file and the test Redis. Purchases race over HTTP; the report job is
// scheduled on both.

const exampleDir = fileURLToPath(new URL('..', import.meta.url))
const REDIS_URL = process.env.CACHELOCK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6391'
const prefix = `test:nestjs-shop:${randomUUID().slice(0, 8)}:`
const dir = mkdtempSync(join(tmpdir(), 'cachelock-nestjs-shop-'))
const database = join(dir, 'shop.sqlite')
const STOCK = 25
const BUYERS = 60

interface Instance {
  name: string
  child: ChildProcess
  lines: string[]
  url: Promise<string>
  exited: Promise<void>
}

function start(name: string): Instance {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
    cwd: exampleDir,
    env: { ...process.env, PORT: '0', DATABASE: database, INSTANCE: name, CACHELOCK_URL: REDIS_URL, LOCK_PREFIX: prefix, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let listening!: (url: string) => void
  const url = new Promise<string>((resolve) => (listening = resolve))
  let buffered = ''
  const read = (chunk: Buffer) => {
    buffered += chunk.toString()
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    for (const line of complete) {
      lines.push(line)
      const match = / listening on (http:\/\/\S+)/.exec(line)
      if (match) listening(match[1]!)
    }
  }
  child.stdout.on('data', read)
  child.stderr.on('data', read)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return { name, child, lines, url, exited }
}

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms))])

let instances: Instance[] = []
let urls: string[] = []

beforeAll(async () => {
  prepareDatabase(database)
  const db = new Database(database)
  db.prepare(`UPDATE product SET stock = ? WHERE sku = 'A-1'`).run(STOCK)
  db.close()
  instances = [start('shop-a'), start('shop-b')]
  try {
    urls = await within(Promise.all(instances.map((instance) => instance.url)), 25_000, 'starting both instances')
  } catch (error) {
    throw new Error(`${String(error)}\n${instances.map((i) => `--- ${i.name}\n${i.lines.join('\n')}`).join('\n')}`)
  }
}, 30_000)

afterAll(() => {
  for (const { child } of instances) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

test('two instances sell each unit once, and run the report once per tick', async () => {
  // Concurrent purchases of the last 25 units, split over both instances.
  const responses = await Promise.all(
    Array.from({ length: BUYERS }, async (_, i) => {
      const response = await fetch(`${urls[i % 2]}/products/A-1/purchase`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer: `buyer-${i}` }),
      })
      return { status: response.status, body: (await response.json()) as { code?: string; instance?: string } }
    }),
  )
  const sold = responses.filter((r) => r.status === 201)
  const refused = responses.filter((r) => r.status !== 201)
  expect(sold).toHaveLength(STOCK)
  // Every refusal is "sold out": none is a lock timeout or an error.
  expect(refused.map((r) => `${r.status} ${r.body.code}`)).toEqual(Array(BUYERS - STOCK).fill('409 SOLD_OUT'))
  const db = new Database(database, { readonly: true })
  const stock = db.prepare(`SELECT stock FROM product WHERE sku = 'A-1'`).pluck().get()
  const orders = db.prepare(`SELECT COUNT(*) FROM orders WHERE sku = 'A-1'`).pluck().get()
  db.close()
  expect({ stock, orders }).toEqual({ stock: 0, orders: STOCK })
  expect(new Set(sold.map((r) => r.body.instance))).toEqual(new Set(['shop-a', 'shop-b']))

  // The report job: both instances schedule it every 2 s; per tick, one runs and the other skips.
  const runs = () =>
    instances.flatMap(({ lines }) =>
      lines.flatMap((line) => {
        const match = /stock-report tick=(\d+) instance=(\S+)/.exec(line)
        return match ? [{ tick: match[1]!, instance: match[2]! }] : []
      }),
    )
  await expect.poll(() => new Set(runs().map((run) => run.tick)).size, { timeout: 12_000, interval: 200 }).toBeGreaterThanOrEqual(4)
  const byTick = new Map<string, string[]>()
  for (const run of runs()) byTick.set(run.tick, [...(byTick.get(run.tick) ?? []), run.instance])
  expect([...byTick.values()].filter((ran) => ran.length > 1)).toEqual([])
  const skipped = instances.flatMap(({ lines }) => lines.filter((line) => line.includes('Skipped StockReport.run')))
  expect(skipped.length).toBeGreaterThan(0)

  // SIGTERM: each instance stops, waits for its held locks, closes the store, and exits.
  for (const { child } of instances) child.kill('SIGTERM')
  await within(Promise.all(instances.map((instance) => instance.exited)), 15_000, 'shutting down')
  const observer = createLockManager({ store: REDIS_URL, prefix })
  try {
    expect(await observer.isLocked('stock-report')).toBe(false)
    expect(await observer.isLocked('product:sku:A-1')).toBe(false)
  } finally {
    await observer.close()
  }
}, 45_000)
