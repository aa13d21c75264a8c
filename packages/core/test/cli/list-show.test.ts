import { afterAll, describe, expect, test, vi } from 'vitest'
import { createLockManager, type LockHandle, type LockManager } from '../../src/index.js'
import { CLUSTER_URL, REDIS_URL, cachelock, lines, uniquePrefix } from './helpers.js'

// Each test starts the CLI as a process (or several): seconds apiece on a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 })

/** `cachelock list` and `show`, as a child process, against locks held by managers in this process. */
describe.each([
  ['Redis', REDIS_URL],
  ['Redis Cluster', CLUSTER_URL],
])('cachelock list / show on %s', (_label, url) => {
  const prefix = uniquePrefix('list')
  const a = createLockManager({ store: url, prefix })
  const b = createLockManager({ store: url, prefix })
  const handles: LockHandle[] = []
  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.release().catch(() => undefined)))
    await Promise.all([a.close(), b.close()])
  })
  const hold = async (manager: LockManager, name: string, mode: 'exclusive' | 'shared' = 'exclusive') => {
    const handle = await manager.acquire(name, { mode, ttl: 60_000 })
    handles.push(handle)
    return handle
  }

  test('list --json: every held lock under the prefix, with mode, holders, ttl left and fencing token', async () => {
    const order1 = await hold(a, 'order:1')
    const order2 = await hold(b, 'order:2')
    await hold(a, 'report', 'shared')
    const report = await hold(b, 'report', 'shared')
    const run = await cachelock(['list', '--url', url, '--prefix', prefix, '--json'])
    expect(run).toMatchObject({ code: 0, stderr: '' })
    const listed = JSON.parse(run.stdout) as {
      name: string
      key: string
      mode: string
      holders: { clientId: string }[]
      ttlMs: number
      fencingToken: number
    }[]
    expect(listed.map((lock) => [lock.name, lock.key, lock.mode, lock.fencingToken])).toEqual([
      ['order:1', `${prefix}order:1`, 'exclusive', order1.fencingToken],
      ['order:2', `${prefix}order:2`, 'exclusive', order2.fencingToken],
      ['report', `${prefix}report`, 'shared', report.fencingToken],
    ])
    expect(listed.map((lock) => lock.holders.map((holder) => holder.clientId).sort())).toEqual([
      [a.clientId],
      [b.clientId],
      [a.clientId, b.clientId].sort(),
    ])
    for (const lock of listed) expect(lock.ttlMs).toBeGreaterThan(0)
    for (const lock of listed) expect(lock.ttlMs).toBeLessThanOrEqual(60_000)
    // Owner tokens (which would let a reader release or extend the lock as its holder) never appear.
    expect(run.stdout).not.toMatch(/[0-9a-f]{16}:[0-9a-f]{32}/)
  })

  test('list PATTERN: a table for people, names matched by the glob', async () => {
    await hold(a, 'order:12')
    const run = await cachelock(['list', 'order:?', '--url', url, '--prefix', prefix])
    expect(run).toMatchObject({ code: 0, stderr: '' })
    const [header, ...rows] = lines(run.stdout)
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'MODE', 'HOLDERS', 'TTL LEFT', 'FENCING TOKEN'])
    expect(rows.map((row) => row.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['order:1', 'exclusive', '1'],
      ['order:2', 'exclusive', '1'],
    ])
    expect(rows[0]).toMatch(/\d+\.\d s\s+\d{16}$/)
  })

  test('list under another prefix, or with a pattern nothing matches: no locks', async () => {
    const other = await cachelock(['list', '--url', url, '--prefix', uniquePrefix('empty')])
    expect(other).toEqual({ code: 0, stdout: 'No locks held.\n', stderr: '' })
    const none = await cachelock(['list', 'sku:*', '--url', url, '--prefix', prefix, '--json'])
    expect(JSON.parse(none.stdout)).toEqual([])
  })

  test('show NAME: the lock and each holder; a free lock is "not held"', async () => {
    const name = 'odd {name}\nwith a newline'
    const handle = await hold(a, name)
    const run = await cachelock(['show', name, '--url', url, '--prefix', prefix])
    expect(run).toMatchObject({ code: 0, stderr: '' })
    const [head, header, row, ...rest] = lines(run.stdout)
    expect(head).toMatch(
      new RegExp(`^"odd \\{name\\}\\\\nwith a newline": exclusive, 1 holder, ttl left \\d+\\.\\d s, fencing token ${handle.fencingToken}$`),
    )
    expect(header!.split(/\s{2,}/)).toEqual(['HOLDER (clientId)', 'MODE', 'TTL LEFT'])
    expect(row!.split(/\s{2,}/).slice(0, 2)).toEqual([a.clientId, 'exclusive'])
    expect(rest).toEqual([])
    const json = await cachelock(['show', name, '--url', url, '--prefix', prefix, '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({
      name,
      mode: 'exclusive',
      fencingToken: handle.fencingToken,
      holders: [{ clientId: a.clientId }],
    })
    const free = await cachelock(['show', 'nobody', '--url', url, '--prefix', prefix, '--json'])
    expect(JSON.parse(free.stdout)).toEqual({ name: 'nobody', key: `${prefix}nobody`, held: false })
  })

  test('show NAME without --prefix, on a lock held under another prefix: says which prefix it looked under', async () => {
    const name = `${prefix}job` // a name no other test holds under the default prefix
    await hold(a, name)
    const run = await cachelock(['show', name, '--url', url])
    expect(run).toEqual({
      code: 0,
      stdout: `${JSON.stringify(name)} is not held (looked under prefix "lock:"; pass --prefix if the app uses another).\n`,
      stderr: '',
    })
    expect(lines((await cachelock(['show', name, '--url', url, '--prefix', prefix])).stdout)[0]).toMatch(/: exclusive, 1 holder,/)
  })

  test('CACHELOCK_URL stands in for --url', async () => {
    const run = await cachelock(['list', 'report', '--prefix', prefix, '--json'], { env: { CACHELOCK_URL: url } })
    expect(JSON.parse(run.stdout)).toMatchObject([{ name: 'report', mode: 'shared' }])
  })
})
