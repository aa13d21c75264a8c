import { Worker } from 'node:worker_threads'
import { wrapSource } from './evaluate.js'
import { vendoredSource } from './vendored.js'
import { WORKER_SCRIPT, WorkerHandle } from './worker.js'

/** The worker thread's global for worker.js: its own `navigator.locks`, `postMessage` to the page. */
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads')
const { runInThisContext } = require('node:vm')
const scope = new EventTarget()
scope.self = scope
scope.navigator = globalThis.navigator
scope.postMessage = (data) => parentPort.postMessage(data)
parentPort.on('message', (data) => scope.dispatchEvent(new MessageEvent('message', { data })))
runInThisContext(workerData.source, { filename: workerData.filename, lineOffset: -1 })(scope)
`

/**
 * `resources/worker.js`, unmodified, in a real worker thread with that thread's own
 * `navigator.locks`: the second client for Node's built-in lock manager, which shares lock state
 * across a process's threads. Only used when this Node has `navigator.locks` (the reference run).
 */
export class NodeThreadWorker extends WorkerHandle {
  readonly #thread: Worker

  constructor() {
    super()
    const workerData = { source: wrapSource(vendoredSource(WORKER_SCRIPT)), filename: `web-locks/${WORKER_SCRIPT}` }
    this.#thread = new Worker(BOOTSTRAP, { eval: true, workerData })
    this.#thread.on('message', (data) => this.dispatchEvent(new MessageEvent('message', { data })))
    this.#thread.unref()
  }

  postMessage(data: unknown): void {
    this.#thread.postMessage(data)
  }

  terminate(): void {
    void this.#thread.terminate()
  }
}
