import { WorkerProcess } from '../runner/worker-process.js'
import type { ContentionRequest } from './contention-protocol.js'

/** The app servers of a contention case: `count` worker processes, connected and ready. */
export async function startContentionWorkers(count: number, redisUrl: string, namespace: string): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, () => WorkerProcess.start('contention-worker'))
  try {
    await Promise.all(workers.map((worker) => worker.request({ type: 'init', redisUrl, namespace } satisfies ContentionRequest)))
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.close()))
    throw error
  }
  return workers
}
