import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

/** The test package: workers run there, so `createStore(url)` finds ioredis and memjs in its node_modules. */
const testDir = fileURLToPath(new URL('../..', import.meta.url))

/** One JSON line a worker printed. Every message has an `event`; the rest depends on it. */
export interface WorkerMessage {
  event: string
  [field: string]: unknown
}

/**
 * A worker OS process running a TypeScript file under tsx (`node --import tsx`), which is how a
 * fresh clone runs the library's sources with no build step. It talks JSON lines: commands on its
 * stdin, messages on its stdout; stderr is kept for failure reports.
 */
export class Worker {
  readonly child: ChildProcess
  readonly messages: WorkerMessage[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #stderr = ''
  #waiters = new Set<() => void>()

  constructor(script: string, config: unknown) {
    const path = fileURLToPath(new URL(`../workers/${script}`, import.meta.url))
    this.child = spawn(process.execPath, ['--import', 'tsx', path, JSON.stringify(config)], {
      cwd: testDir,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }))
    void this.exited.then(() => this.#notify())
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let message: WorkerMessage
      try {
        message = JSON.parse(line) as WorkerMessage
      } catch {
        message = { event: 'stdout', line }
      }
      this.messages.push(message)
      this.#notify()
    })
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString()
    })
  }

  get pid(): number {
    return this.child.pid!
  }

  get stderr(): string {
    return this.#stderr
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`)
  }

  /** Every message with this event so far. */
  all(event: string): WorkerMessage[] {
    return this.messages.filter((message) => message.event === event)
  }

  /**
   * The first message with `event` (already received or still to come). Rejects after
   * `timeoutMs`, or as soon as the worker exits without sending it, with its stderr.
   */
  async next(event: string, timeoutMs = 30_000): Promise<WorkerMessage> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const found = this.messages.find((message) => message.event === event)
      if (found) return found
      if (!this.running) throw new Error(`worker ${this.pid} exited before "${event}"; stderr:\n${this.#stderr}`)
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`worker ${this.pid} sent no "${event}" within ${timeoutMs} ms; stderr:\n${this.#stderr}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.add(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** SIGKILL now; resolves when the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child.kill(signal)
    await this.exited
  }

  /** Ask the worker to close its store and exit; kill it if it has not after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return
    this.send({ cmd: 'exit' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  #notify(): void {
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const wake of waiters) wake()
  }
}

/** Stop every worker still running (an afterEach/afterAll safety net; a failed test must not leave processes behind). */
export async function stopAll(workers: Iterable<Worker>): Promise<void> {
  await Promise.all([...workers].map((worker) => worker.stop(2000)))
}
