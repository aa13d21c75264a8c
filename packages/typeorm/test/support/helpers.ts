import { randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A key no other test uses (tests share tables). */
export const unique = (prefix = 'SKU') => `${prefix}-${randomUUID().slice(0, 8)}`

/** A promise to resolve from outside. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject, but it resolved')
}

/** Collect the events of a diagnostics channel while `body` runs. */
export async function recordEvents<T>(channel: string, body: () => Promise<T>): Promise<{ events: any[]; result: T }> {
  const events: any[] = []
  const listener = (event: unknown) => void events.push(event)
  diagnostics.subscribe(channel, listener)
  try {
    return { events, result: await body() }
  } finally {
    diagnostics.unsubscribe(channel, listener)
  }
}
