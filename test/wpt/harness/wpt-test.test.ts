import { describe, expect, it } from 'vitest'
import { WptTest } from './wpt-test.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('WptTest (the `t` of a WPT test)', () => {
  it('passes when the body resolves and no step failed', async () => {
    expect(await new WptTest('ok').run(async () => tick(), 1_000)).toEqual({ status: 'pass', equivalences: [] })
  })

  it('fails at once when a step throws, even if the body never settles', async () => {
    const result = await new WptTest('step').run((t) => {
      setImmediate(t.unreached_func('callback should not run'))
      return new Promise(() => undefined)
    }, 60_000)
    expect(result).toMatchObject({
      status: 'fail',
      error: { message: 'assert_unreached: callback should not run Reached unreachable code' },
    })
  })

  it('fails when a step threw, although the body resolved afterwards', async () => {
    const result = await new WptTest('late').run(async (t) => {
      t.step(() => {
        throw new Error('in a step')
      })
      await tick()
    }, 1_000)
    expect(result).toMatchObject({ status: 'fail', error: { message: 'in a step' } })
  })

  it('ignores steps once the test has a result', async () => {
    const t = new WptTest('done')
    await t.run(async () => undefined, 1_000)
    let called = false
    expect(
      t.step(() => {
        called = true
      }),
    ).toBeUndefined()
    t.unreached_func('ignored')()
    expect(called).toBe(false)
  })

  it('runs cleanups after the result, also after a failure, and awaits their promises', async () => {
    const order: string[] = []
    const result = await new WptTest('cleanup').run(async (t) => {
      t.add_cleanup(async () => {
        await tick()
        order.push('cleanup done')
      })
      order.push('body')
      throw new Error('boom')
    }, 1_000)
    order.push('run resolved')
    expect(result).toMatchObject({ status: 'fail' })
    expect(order).toEqual(['body', 'cleanup done', 'run resolved'])
  })

  it('a failing cleanup fails a test that passed', async () => {
    const result = await new WptTest('bad cleanup').run(async (t) => {
      t.add_cleanup(() => Promise.reject(new Error('cleanup broke')))
    }, 1_000)
    expect(result).toMatchObject({ status: 'fail', error: { message: 'cleanup broke' } })
  })

  it('times out a body that never settles', async () => {
    const result = await new WptTest('hang').run(() => new Promise(() => undefined), 50)
    expect(result).toMatchObject({ status: 'timeout', error: { message: 'Test timed out after 50 ms' } })
  })

  it('step_timeout runs its callback as a step, with its arguments', async () => {
    const seen: unknown[] = []
    const result = await new WptTest('timeout step').run(
      (t) =>
        new Promise<void>((resolve) => {
          t.step_timeout(
            (value: string) => {
              seen.push(value)
              resolve()
            },
            5,
            'arg',
          )
        }),
      1_000,
    )
    expect(result.status).toBe('pass')
    expect(seen).toEqual(['arg'])
  })
})
