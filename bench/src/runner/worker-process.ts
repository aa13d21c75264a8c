import { fork, type ChildProcess } from 'node:child_process'
import { compiledEntry, repoRoot } from '../paths.js'

/** A request to a worker; the worker answers each with `{ id, ok, value | error }`. */
interface Envelope {
  id: number
  message: unknown
}

interface Reply {
  id: number
  ok: boolean
  value?: unknown
  error?: string
}

/**
 * A bench worker in its own Node process (a compiled entry point of the bench), spoken to over
 * IPC with request/response pairs. Cases that need several processes (contention across app
 * servers) or a clean heap (memory per lock) run their load in workers.
 */
export class WorkerProcess {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  #nextId = 1
  #exited: Error | undefined

  private constructor(child: ChildProcess) {
    this.#child = child
    child.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id)
      if (!pending) return
      this.#pending.delete(reply.id)
      if (reply.ok) pending.resolve(reply.value)
      else pending.reject(new Error(reply.error ?? 'worker failed'))
    })
    child.on('exit', (code, signal) => {
      this.#exited = new Error(`bench worker exited (${signal ?? `code ${code}`})`)
      for (const pending of this.#pending.values()) pending.reject(this.#exited)
      this.#pending.clear()
    })
  }

  /** Start `bench/dist/<entry>.mjs` on plain Node with `nodeFlags` (e.g. `--expose-gc`). */
  static start(entry: string, nodeFlags: string[] = []): WorkerProcess {
    const child = fork(compiledEntry(entry), [], { cwd: repoRoot, execArgv: nodeFlags, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    return new WorkerProcess(child)
  }

  request<T>(message: unknown): Promise<T> {
    if (this.#exited) return Promise.reject(this.#exited)
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.#child.send({ id, message } satisfies Envelope)
    })
  }

  /** Ask the worker to exit, and kill it if it has not within a second. */
  async close(): Promise<void> {
    if (this.#exited) return
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()))
    this.#child.disconnect()
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 1000)
    await exited
    clearTimeout(timer)
  }
}

/**
 * The worker side: answer each request with `handle`'s result. The worker exits when the parent
 * disconnects (or dies), so a crashed bench leaves no stray processes behind.
 */
export function serveRequests(handle: (message: never) => Promise<unknown>): void {
  process.on('message', (envelope: Envelope) => {
    handle(envelope.message as never).then(
      (value) => process.send?.({ id: envelope.id, ok: true, value } satisfies Reply),
      (error: unknown) =>
        process.send?.({
          id: envelope.id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        } satisfies Reply),
    )
  })
  process.on('disconnect', () => process.exit(0))
}
