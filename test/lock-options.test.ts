import 'reflect-metadata'
import { describe, expect, test } from 'vitest'
import { InvalidLockArgumentError, Locked, lockOptionTable, type LockOptionName } from '@cachelock/core'
import { WithLock } from '@cachelock/nestjs'
import { resolveExtensionOptions, resolveWithLockOptions } from '../packages/prisma/src/options.js'
import { checkLockRowOptions, checkWithLockOptions } from '../packages/typeorm/src/options.js'

/**
 * Core's table of lock options reaches every adapter: each entry that takes lock options accepts
 * every option of the table (a handle's only where the entry returns a handle) and checks its value
 * by the table's rule. No adapter lists core's options, so an option added to the table is covered
 * here, and taken by the adapters, without editing either.
 */
interface Entry {
  name: string
  /** Takes the handle's options too (`releaseOnFinalize`). */
  handle: boolean
  /** Check `options` as the entry does when called; returns the lock options it passes on, when it exposes them. */
  check(options: Record<string, unknown>): Record<string, unknown> | undefined
}

const prismaDefaults = resolveExtensionOptions(undefined)
const entries: Entry[] = [
  { name: '@Locked (core)', handle: false, check: (options) => (Locked('k', options), undefined) },
  { name: '@WithLock (nestjs)', handle: false, check: (options) => (WithLock('k', options), undefined) },
  { name: 'withLock (prisma)', handle: false, check: (options) => ({ ...resolveWithLockOptions(options, prismaDefaults).lockOptions }) },
  { name: 'withLock (typeorm)', handle: false, check: (options) => ({ ...checkWithLockOptions(options).lockOptions }) },
  { name: 'lock (typeorm)', handle: true, check: (options) => ({ ...checkLockRowOptions(options).acquireOptions }) },
]

const options = Object.entries(lockOptionTable) as [LockOptionName, (typeof lockOptionTable)[LockOptionName]][]
const cases = entries.flatMap((entry) => options.map(([option, rule]) => ({ entry, option, rule })))

function thrown(run: () => unknown): InvalidLockArgumentError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    return error as InvalidLockArgumentError
  }
  return expect.unreachable('accepted') as never
}

describe.each(entries.map((entry) => [entry.name, entry] as const))('%s', (_, entry) => {
  test.each(cases.filter((c) => c.entry === entry).map((c) => [c.option, c] as const))(
    'takes `%s` as the table says',
    (option, { rule }) => {
      if (rule.handleOnly && !entry.handle) {
        expect(thrown(() => entry.check({ [option]: rule.example })).message).toMatch(/^Unknown option `options\./)
        return
      }
      // The table's example passes, unchanged, to the lock request.
      const passed = entry.check({ [option]: rule.example })
      if (passed) expect(passed[option]).toBe(rule.example)
      // A value no rule accepts is refused, naming the option, in the table's words.
      const bad = Symbol('bad')
      const error = thrown(() => entry.check({ [option]: bad }))
      expect(error.argument).toBe(`options.${option}`)
      expect(error.message).toBe(thrown(() => rule.check(bad, `options.${option}`)).message)
    },
  )
})
