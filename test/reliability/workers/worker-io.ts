import { createInterface } from 'node:readline'

/**
 * The worker side of `support/processes.ts`: JSON lines out on stdout, commands in on stdin.
 * Imported by every worker, so each one also reports unhandled rejections and uncaught exceptions
 * to the test (which asserts there are none) instead of dying silently.
 */

/** Milliseconds on the machine's monotonic clock, comparable across processes (Linux CLOCK_MONOTONIC). */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6

export function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, at: nowMs(), ...fields })}\n`)
}

/** The JSON config the parent passed as the first argument. */
export function config<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T
}

/** An error as plain data the parent can assert on. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) }
  const { name, message } = error
  const extra = error as Error & { code?: unknown; reason?: unknown }
  return {
    name,
    message,
    code: extra.code,
    reason: extra.reason,
    cause: error.cause === undefined ? undefined : describeError(error.cause),
  }
}

process.on('unhandledRejection', (reason) => emit('unhandled', { kind: 'unhandledRejection', error: describeError(reason) }))
process.on('uncaughtException', (error) => {
  emit('unhandled', { kind: 'uncaughtException', error: describeError(error) })
  process.exit(70)
})

/** Call `handle` for each command line; stdin closing (the parent died) ends the process. */
export function onCommand(handle: (command: { cmd: string; [field: string]: unknown }) => Promise<void> | void): void {
  const lines = createInterface({ input: process.stdin })
  let queue = Promise.resolve()
  lines.on('line', (line) => {
    // One command at a time, in order: a test script reads like a sequence of steps.
    queue = queue.then(async () => {
      try {
        await handle(JSON.parse(line) as { cmd: string })
      } catch (error) {
        emit('command-failed', { line, error: describeError(error) })
      }
    })
  })
  lines.on('close', () => process.exit(0))
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
