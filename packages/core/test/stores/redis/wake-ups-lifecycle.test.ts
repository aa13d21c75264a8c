import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { RedisClient, RedisSubscriber } from '../../../src/stores/redis/client.js'
import { INTEREST_TTL_MS, WakeUps } from '../../../src/stores/redis/wake-ups.js'

/**
 * The subscriber connection's life, on a stand-in connection whose answers the test decides: when
 * it subscribes, fails, reconnects and closes, which listeners are woken. (Wake-ups over the real
 * server, end to end, are in wake-ups.test.ts.)
 */
class FakeSubscriber extends EventEmitter {
  readonly subscribed: string[][] = []
  readonly unsubscribed: string[] = []
  disconnected = 0
  failNext = false
  subscribe(...channels: string[]): Promise<unknown> {
    this.subscribed.push(channels)
    if (this.failNext) {
      this.failNext = false
      return Promise.reject(new Error('subscribe failed'))
    }
    return Promise.resolve(channels.length)
  }
  unsubscribe(channel: string): Promise<unknown> {
    this.unsubscribed.push(channel)
    return Promise.resolve(0)
  }
  disconnect(): void {
    this.disconnected++
  }
  message(channel: string): void {
    this.emit('messageBuffer', Buffer.from(channel), Buffer.alloc(0))
  }
}

function setup(idleMs = 1000) {
  const subscribers: FakeSubscriber[] = []
  const client = {
    duplicate: () => {
      const subscriber = new FakeSubscriber()
      subscribers.push(subscriber)
      return subscriber as unknown as RedisSubscriber
    },
  } as unknown as RedisClient
  const interest: [string, boolean][] = []
  const wakeUps = new WakeUps(client, idleMs, (alive, on) => (interest.push([alive as string, on]), Promise.resolve(1)))
  const counter = () => {
    const wake = () => void wake.calls++
    wake.calls = 0
    return wake
  }
  return { wakeUps, subscribers, interest, counter, sub: () => subscribers.at(-1)! }
}
const target = (name: string) => ({ channel: `{${name}}:w`, alive: `{${name}}:l` })
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

afterEach(() => {
  vi.useRealTimers()
})

describe('WakeUps', () => {
  it('wakes a listener when subscribed and marked, then on each release of its lock only, until it stops', async () => {
    const { wakeUps, sub, interest, counter } = setup()
    const a = counter()
    const stop = wakeUps.listen(target('a'), a)
    await settle()
    expect(a.calls).toBe(1)
    expect(interest).toEqual([['{a}:l', true]])
    sub().message('{a}:w')
    sub().message('{b}:w')
    expect(a.calls).toBe(2)
    stop()
    stop()
    sub().message('{a}:w')
    expect(a.calls).toBe(2)
    expect(interest).toEqual([
      ['{a}:l', true],
      ['{a}:l', false],
    ])
    expect(sub().unsubscribed).toEqual(['{a}:w'])
  })

  it('wakes a listener that joins an active channel once, and one that joins while subscribing only when active', async () => {
    const { wakeUps, sub, counter } = setup()
    const [first, early, late, gone] = [counter(), counter(), counter(), counter()]
    wakeUps.listen(target('a'), first)
    wakeUps.listen(target('a'), early) // still subscribing
    await settle()
    expect([first.calls, early.calls]).toEqual([1, 1])
    wakeUps.listen(target('a'), late)
    wakeUps.listen(target('a'), gone)() // left before its wake-up was due
    await settle()
    expect([first.calls, early.calls, late.calls, gone.calls]).toEqual([1, 1, 1, 0])
    expect(sub().subscribed).toEqual([['{a}:w']])
  })

  it('wakes listeners when subscribing fails (they poll), and subscribes again for the next listener', async () => {
    const { wakeUps, sub, counter } = setup()
    const [a, b] = [counter(), counter()]
    wakeUps.listen(target('a'), () => undefined) // opens the connection
    await settle()
    sub().failNext = true
    wakeUps.listen(target('x'), a)
    await settle()
    expect(a.calls).toBe(1)
    wakeUps.listen(target('x'), b)
    await settle()
    expect(sub().subscribed).toEqual([['{a}:w'], ['{x}:w'], ['{x}:w']])
    expect([a.calls, b.calls]).toEqual([2, 1])
  })

  it('after a reconnect, subscribes the active channels again and wakes their listeners', async () => {
    const { wakeUps, sub, counter } = setup()
    const a = counter()
    wakeUps.listen(target('a'), a)
    await settle()
    sub().emit('ready') // the first connection
    expect(sub().subscribed).toEqual([['{a}:w']])
    sub().emit('ready') // a reconnect: releases published meanwhile were missed
    await settle()
    expect(sub().subscribed).toEqual([['{a}:w'], ['{a}:w']])
    expect(a.calls).toBe(2)
  })

  it('closes the connection idleMs after the last listener left, and keeps it for one that comes back sooner', async () => {
    vi.useFakeTimers()
    const { wakeUps, subscribers, sub } = setup(1000)
    const stop = wakeUps.listen(target('a'), () => undefined)
    await vi.advanceTimersByTimeAsync(0)
    stop()
    await vi.advanceTimersByTimeAsync(900)
    const again = wakeUps.listen(target('b'), () => undefined)
    await vi.advanceTimersByTimeAsync(500)
    expect([wakeUps.connected, subscribers.length, sub().disconnected]).toEqual([true, 1, 0])
    again()
    await vi.advanceTimersByTimeAsync(999)
    expect(wakeUps.connected).toBe(true)
    await vi.advanceTimersByTimeAsync(1)
    expect([wakeUps.connected, sub().disconnected]).toEqual([false, 1])
  })

  it('renews the listening marks while anyone listens, and stops when nobody does', async () => {
    vi.useFakeTimers()
    const { wakeUps, interest } = setup(60_000)
    const stop = wakeUps.listen(target('a'), () => undefined)
    await vi.advanceTimersByTimeAsync(INTEREST_TTL_MS / 3)
    expect(interest.filter(([, on]) => on)).toHaveLength(2)
    stop()
    await vi.advanceTimersByTimeAsync(INTEREST_TTL_MS)
    expect(interest.filter(([, on]) => on)).toHaveLength(2)
    expect(vi.getTimerCount()).toBe(1) // only the idle timer is left
  })

  it('on close, unmarks every lock and disconnects; later listeners are not subscribed', async () => {
    const { wakeUps, sub, interest, subscribers, counter } = setup()
    wakeUps.listen(target('a'), () => undefined)
    await settle()
    wakeUps.close()
    expect(interest.at(-1)).toEqual(['{a}:l', false])
    expect([wakeUps.connected, sub().disconnected]).toEqual([false, 1])
    const late = counter()
    wakeUps.listen(target('b'), late)
    await settle()
    expect([subscribers.length, late.calls]).toEqual([1, 0])
  })
})
