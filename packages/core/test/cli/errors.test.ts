import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { createLockManager } from '../../src/index.js'
import { MEMCACHED_URL, cachelock, lines, uniquePrefix } from './helpers.js'

// Each test starts the CLI as a process (or several): seconds apiece on a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 })

/** Every failure is one line on stderr and a non-zero exit; nothing waits on a dead store. */
describe('cachelock errors', () => {
  test.each([
    [
      'an unknown scheme',
      ['list', '--url', 'foo://x'],
      /^cachelock: Expected `url` to be a store URL with a known scheme .*got "foo:\/\/x"/,
    ],
    ['a malformed Redis URL', ['list', '--url', 'redis+sentinel://h:1'], /^cachelock: Expected `url` to be a Redis URL.*primaryName/],
    ['a process-local store', ['list', '--url', 'memory://'], /^cachelock: memory:\/\/ is a store inside one process/],
    ['no store at all', ['list'], /^cachelock: no store: pass --url URL or set CACHELOCK_URL$/],
    [
      'an unknown command',
      ['lock', 'x', '--url', 'redis://h'],
      /^cachelock: unknown command "lock" \(commands: list, show, release\) \(cachelock --help for usage\)$/,
    ],
    ['a missing name', ['show', '--url', 'redis://h'], /^cachelock: show needs a lock name/],
    ['an unknown option', ['list', '--yse'], /^cachelock: Unknown option '--yse'/],
    ['a bad --timeout', ['list', '--timeout', '5s'], /^cachelock: --timeout takes milliseconds/],
  ])('%s: one line, exit 2', async (_label, args, message) => {
    const run = await cachelock(args)
    expect(run.code, run.stderr).toBe(2)
    expect(run.stdout).toBe('')
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr.trimEnd()).toMatch(message)
  })

  test.each([
    ['Redis', 'redis://127.0.0.1:1', /connect ECONNREFUSED 127\.0\.0\.1:1$/],
    ['a Redis Cluster', 'redis+cluster://127.0.0.1:1,127.0.0.1:2', /None of startup nodes is available/],
    ['Redis Sentinel', 'redis+sentinel://127.0.0.1:1/mymaster', /All sentinels are unreachable/],
    ['memcached', 'memcached://127.0.0.1:1', /connect ECONNREFUSED 127\.0\.0\.1:1$/],
  ])('%s refusing connections: one line naming the cause, exit 1, before the --timeout', async (_label, url, cause) => {
    const run = await cachelock(['show', 'x', '--url', url, '--timeout', '20000'])
    expect(run.code, run.stderr).toBe(1)
    expect(lines(run.stderr)).toHaveLength(1)
    // The connection's own failure, not the CLI's 20 s deadline: it failed as soon as it was refused.
    expect(run.stderr).toMatch(new RegExp(`^cachelock: the store at ${url.replace(/[.+]/g, '\\$&')} failed: `))
    expect(run.stderr.trim()).toMatch(cause)
  })

  describe('a server that accepts connections and never answers', () => {
    let server: Server
    let port: number
    const sockets: Socket[] = []
    beforeAll(async () => {
      server = createServer((socket) => sockets.push(socket))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      port = (server.address() as { port: number }).port
    })
    afterAll(async () => {
      sockets.forEach((socket) => socket.destroy())
      await new Promise((resolve) => server.close(resolve))
    })

    test('gives up at --timeout: one line, exit 1', async () => {
      const run = await cachelock(['list', '--url', `redis://:secret@127.0.0.1:${port}`, '--timeout', '300'])
      expect(run.code, run.stderr).toBe(1)
      expect(run.stderr).toBe(`cachelock: the store at redis://:***@127.0.0.1:${port} did not answer within 300 ms\n`)
    })
  })

  test('memcached cannot list: a clear refusal, exit 2; show still works', async () => {
    const prefix = uniquePrefix('memcached')
    const run = await cachelock(['list', '--url', MEMCACHED_URL, '--prefix', prefix])
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).toMatch(
      /^cachelock: memcached stores cannot list locks: memcached has no way to enumerate its keys\. .*cachelock show NAME/,
    )
    expect(lines(run.stderr)).toHaveLength(1)
    const locks = createLockManager({ store: MEMCACHED_URL, prefix })
    try {
      const handle = await locks.acquire('order:7')
      const show = await cachelock(['show', 'order:7', '--url', MEMCACHED_URL, '--prefix', prefix, '--json'])
      // memcached keeps no remaining ttl or fencing token the CLI can read back.
      expect(JSON.parse(show.stdout)).toMatchObject({
        name: 'order:7',
        mode: 'exclusive',
        holders: [{ clientId: locks.clientId, ttlMs: null }],
        ttlMs: null,
        fencingToken: null,
      })
      await handle.release()
    } finally {
      await locks.close()
    }
  })

  test('--help and --version', async () => {
    const help = await cachelock(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: cachelock <command> \[options\]/)
    const version = await cachelock(['--version'])
    expect(version).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' })
  })
})
