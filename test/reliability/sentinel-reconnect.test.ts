import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, test, vi } from 'vitest'
import { createLockManager } from '../../packages/core/src/index.js'
import { redisStoreFromUrl } from '../../packages/core/src/stores/redis/index.js'
import { parseRedisUrl } from '../../packages/core/src/stores/redis/url.js'
import { holdingProxy, type HoldingProxy } from './support/holding-proxy.js'
import { uniquePrefix } from './support/env.js'
import { report } from './support/report.js'
import { SENTINEL_URL, ask, primaryPort, restoreTrio, until } from './support/sentinel.js'

vi.setConfig({ testTimeout: 180_000 })

/**
 * A failover announced while the client is asking Sentinel where the primary is.
 *
 * A Sentinel URL's client follows failovers with ioredis's `failoverDetector`: a subscription to
 * Sentinel's `+switch-master` that drops the connection when a new primary is announced. When that
 * announcement lands while the client is reconnecting (its primary died, and it is waiting for
 * Sentinel's answer), ioredis abandons the connection attempt and **ends the client for good**:
 * every later call fails at once with "Connection is closed.", until the process restarts. The
 * other processes recover, so one app instance fails every lock while its peers work. (Seen in the
 * failover suite: one holder failed 2911 requests in 60 s after a failover.)
 *
 * Here the moment is made certain rather than lucky: Sentinel is reached through a proxy that holds
 * new connections, the client's data connection is killed (so it reconnects, and its question to
 * Sentinel is held), then a real failover (`SENTINEL FAILOVER`) is announced on the subscription,
 * which the proxy lets through; then the held question is answered.
 */
const parsed = parseRedisUrl(SENTINEL_URL)
const sentinel = parsed.nodes[0]!
const primaryName = parsed.sentinel!.name
let proxy: HoldingProxy | undefined

afterAll(async () => {
  await proxy?.close()
  await restoreTrio()
})

/** How many connections named `name` the node at `port` has. */
async function connectionsNamed(port: number, name: string): Promise<number> {
  const node = new Redis({ host: sentinel.host, port, maxRetriesPerRequest: 1 })
  try {
    return ((await node.call('CLIENT', 'LIST')) as string).split('\n').filter((entry) => entry.includes(` name=${name} `)).length
  } finally {
    node.disconnect()
  }
}

/** `CLIENT KILL` the connections named `name` on the node at `port`; resolves with how many there were. */
async function killConnections(port: number, name: string): Promise<number> {
  const node = new Redis({ host: sentinel.host, port, maxRetriesPerRequest: 1 })
  try {
    const list = (await node.call('CLIENT', 'LIST')) as string
    const ids = list
      .split('\n')
      .filter((entry) => entry.includes(` name=${name} `))
      .map((entry) => /\bid=(\d+)/.exec(entry)![1]!)
    for (const id of ids) await node.call('CLIENT', 'KILL', 'ID', id)
    return ids.length
  } finally {
    node.disconnect()
  }
}

describe('Redis Sentinel: a failover announced while the client asks Sentinel for the primary', () => {
  test('the store reconnects (commands and wake-ups) and works again; its clients are not left ended', async () => {
    proxy = await holdingProxy(sentinel.host, sentinel.port)
    const subscribed = proxy.relayed('+switch-master')
    const connectionName = `cl-reconnect-${randomBytes(4).toString('hex')}`
    const prefix = uniquePrefix('sentinel-reconnect')
    const store = redisStoreFromUrl(`redis+sentinel://${sentinel.host}:${proxy.port}/${primaryName}`, { redisOptions: { connectionName } })
    const client = store.client as unknown as { on(event: string, listener: () => void): unknown; status: string }
    let ended = 0
    client.on('end', () => ended++)
    // `sleep` so long that a waiter gets the lock in time only through a release's wake-up, which
    // comes over the store's subscriber connection (the second connection of that name).
    const locks = createLockManager({ store, prefix, sleep: 120_000 })
    // On the same store (so the same connections), retrying at the default pace: how soon it works again.
    const probe = createLockManager({ store, prefix })
    const other = createLockManager({ store: SENTINEL_URL, prefix, ttl: 120_000 })
    try {
      expect(await probe.withLock('order:1', () => 'before', { timeout: 2000 })).toBe('before')
      const held = await other.acquire('order:2')
      const waiter = locks.withLock('order:2', () => performance.now(), { timeout: 90_000 })
      // Both of the store's connections are open: commands, and the waiter's subscription.
      await until(async () => (await connectionsNamed(await primaryPort(), connectionName)) === 2, 10_000, 'the subscriber connection')
      // The failover detectors' subscriptions (one per connection) go through the proxy, opened
      // before it holds anything.
      await subscribed
      await until(() => proxy!.openSending('+switch-master') >= 2, 10_000, 'both failover detectors subscribed')
      await new Promise((resolve) => setTimeout(resolve, 100))

      proxy.holdNew()
      const announced = proxy.relayed('\r\nmessage\r\n')
      expect(await killConnections(await primaryPort(), connectionName)).toBe(2)
      // Both connections reconnect: their questions to Sentinel (on new connections) are held.
      await until(() => proxy!.held >= 2, 10_000, "the clients' questions to Sentinel, held")

      const failoverAsked = performance.now()
      await until(
        () =>
          ask('failover', primaryName).then(
            () => true,
            () => false, // INPROG / NOGOODSLAVE right after a restart: ask again
          ),
        60_000,
        'Sentinel to start a failover',
      )
      await announced
      // Let the clients read the announcement, then answer their questions.
      await new Promise((resolve) => setTimeout(resolve, 200))
      proxy.release()

      const errors = new Map<string, number>()
      const answeredAt = performance.now()
      await until(
        () =>
          probe
            .withLock('order:1', () => true, { timeout: 2000 })
            .catch((error: unknown) => {
              const message = String((error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : error)
              errors.set(message, (errors.get(message) ?? 0) + 1)
              return new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))
            }),
        30_000,
        'withLock to work again',
      ).catch((error: unknown) => {
        const seen = JSON.stringify(Object.fromEntries(errors))
        throw new Error(`${(error as Error).message}; client status ${client.status}, ended ${ended} times; errors meanwhile: ${seen}`)
      })
      const recoveredMs = performance.now() - answeredAt
      // The waiter is parked again (on the new primary), subscribed through the revived subscriber.
      await until(
        async () => (await connectionsNamed(await primaryPort(), connectionName)) === 2,
        30_000,
        'the subscriber connection, back',
      )
      await new Promise((resolve) => setTimeout(resolve, 500))
      const releasedAt = performance.now()
      await held.release()
      const wokenMs = (await waiter) - releasedAt
      report(
        'sentinel-reconnect',
        { ended, recoveredMs, wokenMs, failoverMs: answeredAt - failoverAsked, errors: Object.fromEntries(errors) },
        `the client ended ${ended} time(s) (the race happened); withLock worked again ${recoveredMs.toFixed(0)} ms after Sentinel answered; ` +
          `a parked waiter was woken ${wokenMs.toFixed(0)} ms after the release; errors meanwhile: ${JSON.stringify(Object.fromEntries(errors))}`,
      )
      // The race really happened: ioredis ended the client. Otherwise this test proves nothing.
      expect(ended).toBeGreaterThanOrEqual(1)
      expect(client.status).toBe('ready')
      // Woken by the release, not by its 120 s sleep.
      expect(wokenMs).toBeLessThan(10_000)
    } finally {
      await Promise.all([locks.close(), other.close()])
    }
    // Closed on purpose, it stays closed.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(client.status).toBe('end')
    expect(await connectionsNamed(await primaryPort(), connectionName)).toBe(0)
  })
})
