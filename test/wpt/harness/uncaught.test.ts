import { afterEach, describe, expect, it } from 'vitest'
import { UncaughtRejections } from './uncaught.js'
import { WptTest } from './wpt-test.js'

/** Let Node report unhandled rejections (after the microtask queue drains). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10))

describe('UncaughtRejections', () => {
  let catcher: UncaughtRejections | undefined
  afterEach(() => catcher?.uninstall())

  it('fails the running test, as testharness does', async () => {
    catcher = new UncaughtRejections()
    catcher.install(false)
    const result = await new WptTest('floating').run(async (t) => {
      catcher!.current = t
      void Promise.reject(new Error('nobody handles this'))
      await settle()
    }, 1_000)
    expect(result).toMatchObject({ status: 'fail', error: { message: 'Unhandled rejection: nobody handles this' } })
  })

  it('lets them pass with setup({ allow_uncaught_exception: true })', async () => {
    catcher = new UncaughtRejections()
    catcher.install(true)
    const result = await new WptTest('allowed').run(async (t) => {
      catcher!.current = t
      void Promise.reject(new Error('expected'))
      await settle()
    }, 1_000)
    expect(result.status).toBe('pass')
  })

  it('keeps one outside any test as a harness error, and drops them once the file is done', async () => {
    catcher = new UncaughtRejections()
    catcher.install(false)
    void Promise.reject(new Error('between tests'))
    await settle()
    catcher.finish()
    void Promise.reject(new Error('after the file'))
    await settle()
    expect(catcher.outsideTests.map((error) => (error as Error).message)).toEqual(['Unhandled rejection: between tests'])
  })

  it('gives the process its own listeners back', () => {
    const before = process.listeners('unhandledRejection')
    catcher = new UncaughtRejections()
    catcher.install(false)
    expect(process.listeners('unhandledRejection')).not.toEqual(before)
    catcher.uninstall()
    catcher = undefined
    expect(process.listeners('unhandledRejection')).toEqual(before)
  })
})
