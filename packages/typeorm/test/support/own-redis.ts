import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { vi } from 'vitest'
import { Redis } from 'ioredis'

/**
 * A Redis server of this test file's own (`redis-server`, as `scripts/services.sh` installs it), so
 * the file can freeze it without touching the Redis other test files share. Frozen with SIGSTOP:
 * its connections stay open and nothing answers, like a server stuck in a fork, swap or a network
 * black hole.
 */
export interface OwnRedis {
  url: string
  /** Freeze the server until `thaw()`; resolves once the kernel reports it stopped. */
  freeze(): Promise<void>
  thaw(): void
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

const state = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort()
  const child: ChildProcess = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  const url = `redis://127.0.0.1:${port}`
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => 50 })
  probe.on('error', () => undefined)
  await vi.waitFor(() => probe.ping(), { timeout: 10_000, interval: 50 })
  probe.disconnect()
  const pid = child.pid!
  // Should this process die without its afterAll (a runner killing a timed-out worker), the server
  // goes with it rather than lingering on the shared machine.
  spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
        // Only if the pid is still this server (not reused since it exited).
        `if tr '\\0' ' ' < /proc/${pid}/cmdline 2>/dev/null | grep -q ':${port}'; then kill -CONT ${pid}; kill ${pid}; fi`,
    ],
    {
      stdio: 'ignore',
      detached: true,
    },
  ).unref()
  return {
    url,
    freeze: async () => {
      process.kill(pid, 'SIGSTOP')
      await vi.waitFor(() => {
        if (state(pid) !== 'T') throw new Error(`redis-server ${pid} not stopped yet`)
      })
    },
    thaw: () => void process.kill(pid, 'SIGCONT'),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      process.kill(pid, 'SIGCONT')
      process.kill(pid, 'SIGTERM')
      await exited
    },
  }
}
