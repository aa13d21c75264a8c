import { once } from 'node:events'
import { afterAll, describe, expect, test } from 'vitest'
import { Cluster, Redis } from 'ioredis'
import { ACQUIRE, EXTEND, FORCE_RELEASE, HOLDERS, LISTEN, RELEASE, STEAL } from '../../../src/stores/redis/scripts/index.js'
import { MODES, closeAll, connect, request, sleep, storeFor, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

/** The nodes that own data: the server itself, or every Cluster master. */
async function nodesOf(client: Redis | Cluster): Promise<Redis[]> {
  if (client.status !== 'ready') await once(client, 'ready')
  return client instanceof Cluster ? client.nodes('master') : [client]
}

/**
 * Every command any client sends that mentions `marker`, as Redis's MONITOR sees it on each node.
 * Commands a script runs inside Redis are reported with source `lua`; they are kept apart, since
 * they cost no round trip.
 */
async function watch(client: Redis | Cluster, marker: string) {
  const sent: string[] = []
  const inScripts: string[] = []
  const monitors = await Promise.all((await nodesOf(client)).map((node) => node.monitor()))
  for (const monitor of monitors) {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!args.some((arg) => arg.includes(marker))) return
      ;(source === 'lua' ? inScripts : sent).push(args[0]?.toLowerCase() ?? '')
    })
  }
  return {
    sent,
    inScripts,
    /** Wait until MONITOR has reported `count` commands, then a little longer to catch extras. */
    async settle(count: number) {
      await until(() => sent.length >= count)
      await sleep(50)
    },
    stop: () => monitors.forEach((monitor) => monitor.disconnect()),
  }
}

describe.each(MODES)('round trips on %s', (mode) => {
  const store = storeFor(mode)
  const raw = connect(mode)

  test('acquire, extend and release are one command each (acquire + release = 2)', async () => {
    const key = uniqueKey('count')
    // Load every script on every node first, so this measures the steady state. (Warming up with
    // a few calls is not enough: on a fresh server the other scripts would still pay their first
    // NOSCRIPT, and on a Cluster each node keeps its own script cache.)
    for (const node of await nodesOf(raw)) {
      for (const script of [ACQUIRE, RELEASE, EXTEND, STEAL, FORCE_RELEASE, HOLDERS, LISTEN]) await node.script('LOAD', script.source)
    }

    const seen = await watch(raw, key)
    const r = request(key)
    await store.acquire(r)
    await seen.settle(1)
    expect(seen.sent).toEqual(['evalsha'])
    await store.extend(key, r.owner, 5000)
    await seen.settle(2)
    expect(seen.sent).toEqual(['evalsha', 'evalsha'])
    await store.release(key, r.owner)
    await seen.settle(3)
    expect(seen.sent).toEqual(['evalsha', 'evalsha', 'evalsha'])
    // A refusal, steal, forceRelease and holders are one command each as well.
    await store.acquire(r)
    await store.acquire(request(key, { clientId: 'c1', waiting: true }))
    await store.steal({ key, owner: r.owner, ttlMs: 1000, clientId: 'c0' })
    await store.holders(key)
    await store.forceRelease(key)
    await seen.settle(8)
    expect(seen.sent).toHaveLength(8)
    expect(new Set(seen.sent)).toEqual(new Set(['evalsha']))
    // The work happened inside the scripts, not in round trips.
    expect(seen.inScripts.length).toBeGreaterThan(8)
    seen.stop()
  })

  test('survives SCRIPT FLUSH: the next call reloads the script with EVAL in one extra command', async () => {
    const key = uniqueKey('flush')
    const r = request(key)
    await store.acquire(r)
    await store.release(key, r.owner)

    await Promise.all((await nodesOf(raw)).map((node) => node.script('FLUSH')))
    const seen = await watch(raw, key)
    expect((await store.acquire(r)).granted).toBe(true)
    await seen.settle(2)
    expect(seen.sent).toEqual(['evalsha', 'eval'])
    expect(await store.release(key, r.owner)).toBe(true)
    await seen.settle(4)
    // RELEASE is a different script: it was flushed too.
    expect(seen.sent).toEqual(['evalsha', 'eval', 'evalsha', 'eval'])
    await store.acquire(r)
    await seen.settle(5)
    expect(seen.sent.at(-1)).toBe('evalsha')
    seen.stop()
  })

  test('operations stay correct while scripts are flushed over and over mid-run', async () => {
    const keys = Array.from({ length: 8 }, () => uniqueKey('churn'))
    let flushing = true
    const flusher = (async () => {
      while (flushing) {
        await Promise.all((await nodesOf(raw)).map((node) => node.script('FLUSH')))
        await sleep(2)
      }
    })()
    let grants = 0
    await Promise.all(
      keys.map(async (key) => {
        for (let i = 0; i < 40; i++) {
          const r = request(key)
          const result = await store.acquire(r)
          expect(result.granted).toBe(true)
          grants++
          expect(await store.extend(key, r.owner, 5000)).toBe(true)
          expect(await store.release(key, r.owner)).toBe(true)
        }
      }),
    )
    flushing = false
    await flusher
    expect(grants).toBe(keys.length * 40)
  })
})
