import { LockManager, MemoryStore } from '@cachelock/core'
import { describe, expect, it } from 'vitest'
import { InThreadWorker, type WorkerHandle } from './worker.js'

/** One round trip of worker.js's protocol, as `postToWorkerAndWait` in resources/helpers.js does it. */
let next = 0
function ask(worker: WorkerHandle, data: Record<string, unknown>): Promise<Record<string, unknown>> {
  const rqid = `t${next++}`
  return new Promise((resolve) => {
    const listener = (event: Event) => {
      const reply = (event as MessageEvent).data as Record<string, unknown>
      if (reply['rqid'] !== rqid) return
      worker.removeEventListener('message', listener)
      resolve(reply)
    }
    worker.addEventListener('message', listener)
    worker.postMessage({ ...data, rqid })
  })
}

function clients() {
  const store = new MemoryStore()
  const page = new LockManager({ store, prefix: 'p:' })
  const other = new LockManager({ store, prefix: 'p:' })
  return { page, other, worker: new InThreadWorker(other) }
}

describe('InThreadWorker: resources/worker.js as a second client', () => {
  it('takes and releases locks for the page, as a client of its own', async () => {
    const { page, other, worker } = clients()
    const granted = await ask(worker, { op: 'request', name: 'r' })
    expect(granted).toMatchObject({ ack: 'request', lock_id: expect.any(Number) })
    expect(await page.request('r', { ifAvailable: true }, (lock) => lock)).toBeNull()
    expect(await ask(worker, { op: 'release', lock_id: granted['lock_id'] })).toMatchObject({ ack: 'release' })
    expect(await page.request('r', () => 'free')).toBe('free')
    await ask(worker, { op: 'request', name: 's', mode: 'shared' })
    const held = await page.request('s', { mode: 'shared' }, async () => (await page.query()).held)
    expect(held.map((info) => info.clientId).sort()).toEqual([other.clientId, page.clientId].sort())
  })

  it('reports a refused ifAvailable request and an aborted one', async () => {
    const { page, worker } = clients()
    let release!: () => void
    const holding = page.request('r', () => new Promise<void>((resolve) => (release = resolve)))
    expect(await ask(worker, { op: 'request', name: 'r', ifAvailable: true })).toMatchObject({ failed: true })
    expect(await ask(worker, { op: 'request', name: 'r', abortImmediately: true })).toMatchObject({ error: 'AbortError' })
    release()
    await holding
  })

  it('terminate() releases what the worker holds and delivers nothing more', async () => {
    const { page, worker } = clients()
    await ask(worker, { op: 'request', name: 'r', mode: 'shared' })
    let replies = 0
    worker.addEventListener('message', () => replies++)
    worker.terminate()
    expect(await page.request('r', () => 'granted after terminate')).toBe('granted after terminate')
    worker.postMessage({ op: 'request', name: 'x', rqid: 'late' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(replies).toBe(0)
  })

  it('only runs resources/worker.js', async () => {
    const { checkWorkerUrl } = await import('./worker.js')
    expect(() => checkWorkerUrl('resources/other.js')).toThrow(/only resources\/worker.js/)
  })
})
