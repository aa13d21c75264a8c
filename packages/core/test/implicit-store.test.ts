import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

/**
 * Issue 13 §5a: a manager with no store configured falls back to this process's memory, which
 * excludes no other process. In production that must not happen silently: the first lock fails,
 * saying how to configure a store. Elsewhere it warns once. Each case runs in a child process,
 * since the environment (NODE_ENV, CACHELOCK_URL) and the one-time warning are process-wide.
 */
const script = fileURLToPath(new URL('./fixtures/implicit-store.ts', import.meta.url))

async function run(scenario: string, env: Record<string, string | undefined>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env }
  delete childEnv.NODE_ENV
  delete childEnv.CACHELOCK_URL
  for (const [key, value] of Object.entries(env)) if (value !== undefined) childEnv[key] = value
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, scenario], { env: childEnv, timeout: 60_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { result: any; warnings: string[] }
}

const production = { NODE_ENV: 'production' }
const refused = {
  ok: false,
  name: 'LockError',
  code: 'LOCK_STORE_ERROR',
  cause: expect.stringMatching(/No lock store is configured, and NODE_ENV is production.*CACHELOCK_URL.*configure\(\{ store/),
}

describe('no store configured', () => {
  it('in production, the first lock fails saying how to configure a store: default manager, configure(), createLockManager()', async () => {
    for (const scenario of ['default', 'configured', 'created']) {
      const { result, warnings } = await run(scenario, production)
      expect(result, scenario).toMatchObject(refused)
      expect(result.message, scenario).toContain('CACHELOCK_URL')
      expect(warnings, scenario).toEqual([])
    }
  })

  it('in production, CACHELOCK_URL configures the default manager and configure() without a store', async () => {
    for (const scenario of ['default', 'configured']) {
      const { result, warnings } = await run(scenario, { ...production, CACHELOCK_URL: 'memory://' })
      expect(result, scenario).toEqual({ ok: true, value: 'done' })
      expect(warnings, scenario).toEqual([])
    }
  })

  it('in production, a memory store chosen explicitly works, silently', async () => {
    const { result, warnings } = await run('explicit', production)
    expect(result).toEqual([
      { ok: true, value: 'done' },
      { ok: true, value: 'done' },
    ])
    expect(warnings).toEqual([])
  })

  it('elsewhere, locks work in memory and warn once per process', async () => {
    const { result, warnings } = await run('repeated', { NODE_ENV: 'development' })
    expect(result).toEqual([
      { ok: true, value: 'done' },
      { ok: true, value: 'done' },
      { ok: true, value: 'done' },
    ])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/No lock store is configured.*exclude no other process.*CACHELOCK_URL/)
    expect((await run('explicit', {})).warnings).toEqual([])
  })
})
