import { InvalidLockArgumentError } from '@cachelock/core'
import { describe, expect, it } from 'vitest'
import { CACHELOCK_ERROR_EQUIVALENCES } from '../applicability.js'
import { assert_array_equals, assert_equals, assert_idl_attribute, assert_own_property, rejectionAssertions } from './assertions.js'
import { WptTest, type WptOutcome } from './wpt-test.js'

/** The stand-in must fail where testharness.js fails: a harness bug must not pass a broken manager. */

const strict = rejectionAssertions([])
const cachelock = rejectionAssertions(CACHELOCK_ERROR_EQUIVALENCES)

/** Run `body` as a WPT test and return how it ended. */
function outcome(body: (t: WptTest) => Promise<unknown>): Promise<WptOutcome> {
  return new WptTest('probe').run(body, 2_000)
}

describe('assert_*', () => {
  it('assert_equals compares by SameValue and type, with testharness’s message', () => {
    assert_equals(NaN, NaN)
    expect(() => assert_equals(0, -0)).toThrow('assert_equals: expected -0 but got 0')
    expect(() => assert_equals('1', 1, 'why')).toThrow('assert_equals: why expected (number) 1 but got (string) "1"')
  })

  it('assert_array_equals fails on order, length and holes', () => {
    assert_array_equals([1, 2], [1, 2])
    expect(() => assert_array_equals([2, 1], [1, 2])).toThrow('expected property 0 to be 1 but got 2')
    expect(() => assert_array_equals([1], [1, 2])).toThrow('lengths differ')
    expect(() => assert_array_equals('ab', ['a', 'b'])).toThrow('expected array')
  })

  it('assert_own_property wants an own property; assert_idl_attribute an inherited one', () => {
    const object = Object.create({ inherited: 1 }) as Record<string, unknown>
    object['own'] = 1
    assert_own_property(object, 'own')
    expect(() => assert_own_property(object, 'inherited')).toThrow('expected property "inherited" missing')
    assert_idl_attribute(object, 'inherited')
    expect(() => assert_idl_attribute(object, 'own')).toThrow('found on object expected in prototype chain')
  })
})

describe('promise_rejects_js', () => {
  it('passes only for the exact constructor, as testharness does', async () => {
    expect(await outcome((t) => strict.promise_rejects_js(t, TypeError, Promise.reject(new TypeError('x'))))).toEqual({
      status: 'pass',
      equivalences: [],
    })
    class Sub extends TypeError {}
    expect(await outcome((t) => strict.promise_rejects_js(t, TypeError, Promise.reject(new Sub('x'))))).toMatchObject({ status: 'fail' })
    expect(await outcome((t) => strict.promise_rejects_js(t, TypeError, Promise.reject(new RangeError('x'))))).toMatchObject({
      status: 'fail',
    })
  })

  it('fails the test when the promise resolves', async () => {
    const result = await outcome((t) => strict.promise_rejects_js(t, TypeError, Promise.resolve(1), 'must reject'))
    expect(result).toMatchObject({ status: 'fail', error: { message: expect.stringContaining('Should have rejected: must reject') } })
  })

  it('accepts a declared equivalence only in its exact form, and records it', async () => {
    const invalid = new InvalidLockArgumentError('name', 'bad name')
    const notSupported = new InvalidLockArgumentError('name', 'reserved', 'LOCK_NOT_SUPPORTED')
    expect(await outcome((t) => strict.promise_rejects_js(t, TypeError, Promise.reject(invalid)))).toMatchObject({ status: 'fail' })
    expect(await outcome((t) => cachelock.promise_rejects_js(t, TypeError, Promise.reject(invalid)))).toEqual({
      status: 'pass',
      equivalences: ['TypeError ← InvalidLockArgumentError (code LOCK_INVALID_ARGUMENT)'],
    })
    expect(await outcome((t) => cachelock.promise_rejects_js(t, TypeError, Promise.reject(notSupported)))).toMatchObject({
      status: 'fail',
    })
  })
})

describe('promise_rejects_dom', () => {
  it('wants a DOMException of this realm with the name and legacy code', async () => {
    const notSupported = new DOMException('no', 'NotSupportedError')
    expect(await outcome((t) => strict.promise_rejects_dom(t, 'NotSupportedError', Promise.reject(notSupported)))).toMatchObject({
      status: 'pass',
    })
    const abort = new DOMException('stop', 'AbortError')
    expect(await outcome((t) => strict.promise_rejects_dom(t, 'NotSupportedError', Promise.reject(abort)))).toMatchObject({
      status: 'fail',
    })
    const lookalike = Object.assign(new Error('no'), { name: 'NotSupportedError', code: 9 })
    expect(await outcome((t) => strict.promise_rejects_dom(t, 'NotSupportedError', Promise.reject(lookalike)))).toMatchObject({
      status: 'fail',
    })
    expect(await outcome((t) => strict.promise_rejects_dom(t, 'AbortError', Promise.reject(new Error('AbortError'))))).toMatchObject({
      status: 'fail',
    })
  })

  it('cachelock’s equivalence covers NotSupportedError only with code LOCK_NOT_SUPPORTED, and never AbortError', async () => {
    const notSupported = new InvalidLockArgumentError('options.steal', 'no', 'LOCK_NOT_SUPPORTED')
    const invalid = new InvalidLockArgumentError('options.mode', 'bad')
    expect(await outcome((t) => cachelock.promise_rejects_dom(t, 'NotSupportedError', Promise.reject(notSupported)))).toMatchObject({
      status: 'pass',
      equivalences: ['NotSupportedError ← InvalidLockArgumentError (code LOCK_NOT_SUPPORTED)'],
    })
    expect(await outcome((t) => cachelock.promise_rejects_dom(t, 'NotSupportedError', Promise.reject(invalid)))).toMatchObject({
      status: 'fail',
    })
    expect(await outcome((t) => cachelock.promise_rejects_dom(t, 'AbortError', Promise.reject(notSupported)))).toMatchObject({
      status: 'fail',
    })
  })
})

describe('promise_rejects_exactly', () => {
  it('wants the very value', async () => {
    const reason = { name: 'test' }
    expect(await outcome((t) => strict.promise_rejects_exactly(t, reason, Promise.reject(reason)))).toMatchObject({ status: 'pass' })
    expect(await outcome((t) => strict.promise_rejects_exactly(t, reason, Promise.reject({ name: 'test' })))).toMatchObject({
      status: 'fail',
    })
  })
})
