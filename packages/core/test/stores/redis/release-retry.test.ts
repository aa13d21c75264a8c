import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { LockError, createLockManager, type LockManager } from '../../../src/index.js'
import { REDIS_URL, uniqueKey } from './helpers.js'

/**
 * A release the store failed (the connection was down) is tried again in the background, so the
 * lock is free once Redis can be reached again, not only after its ttl. Here the holder reaches
 * Redis through a relay that goes away for a moment, as a network blip or a failover would do it.
 */
const managers: LockManager[] = []
let relay: { server: Server; sockets: Set<Socket> } | undefined

afterEach(async () => {
  await Promise.all(managers.splice(0).map((locks) => locks.close()))
  if (relay) {
    for (const socket of relay.sockets) socket.destroy()
    await new Promise((resolve) => relay!.server.close(resolve)).catch(() => undefined)
    relay = undefined
  }
})

/**
 * A relay to the test Redis that can go down as a server that is unreachable does: its connections
 * dropped, and new ones refused (nothing listens on its port) until it comes back up.
 */
async function blinkingRelay(): Promise<{ port: number; down(): Promise<void>; up(): Promise<void> }> {
  const { hostname, port } = new URL(REDIS_URL)
  const state = { server: createServer(), sockets: new Set<Socket>() }
  state.server.on('connection', (client) => {
    const upstream = createConnection(Number(port), hostname)
    for (const socket of [client, upstream]) {
      state.sockets.add(socket)
      socket.on('error', () => undefined)
      socket.on('close', () => (client.destroy(), upstream.destroy(), state.sockets.delete(socket)))
    }
    client.pipe(upstream).pipe(client)
  })
  relay = state
  state.server.listen(0, '127.0.0.1')
  await once(state.server, 'listening')
  const relayPort = (state.server.address() as AddressInfo).port
  return {
    port: relayPort,
    down: async () => {
      const closed = new Promise((resolve) => state.server.close(resolve))
      for (const socket of state.sockets) socket.destroy()
      await closed
    },
    up: async () => {
      state.server.listen(relayPort, '127.0.0.1')
      await once(state.server, 'listening')
    },
  }
}

describe('a release the store failed', () => {
  test('is tried again once the store answers: the lock is free long before its ttl', async () => {
    const link = await blinkingRelay()
    const prefix = `${uniqueKey('release-retry')}:`
    const holder = createLockManager({ store: `redis://127.0.0.1:${link.port}`, prefix, ttl: 30_000 })
    const other = createLockManager({ store: REDIS_URL, prefix })
    managers.push(holder, other)
    const handle = await holder.acquire('order:1')

    await link.down()
    const error = await handle.release().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LockError)
    expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
    expect(await other.isLocked('order:1')).toBe(true)
    const upAt = performance.now()
    await link.up()

    // Without the retry the lock stays until its ttl (30 s).
    let taken = false
    while (!taken && performance.now() - upAt < 10_000) {
      const lock = await other.tryAcquire('order:1')
      if (lock) {
        taken = true
        await lock.release()
      } else await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(taken).toBe(true)
  })
})
