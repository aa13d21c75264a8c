import { expect, test } from 'vitest'
import { InvalidLockArgumentError } from '@cachelock/core'
import { lockOptionTable, type LockOptionName } from '@cachelock/core/adapter-kit'

/** An adapter entry that takes lock options beside its own. */
export interface LockOptionsEntry {
  /** Takes the handle's options too (`releaseOnFinalize`). */
  handle: boolean
  /** Check `options` as the entry does when called; returns the lock options it passes on, when it exposes them. */
  check(options: Record<string, unknown>): Record<string, unknown> | undefined
}

function thrown(run: () => unknown): InvalidLockArgumentError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    return error as InvalidLockArgumentError
  }
  return expect.unreachable('accepted')
}

/**
 * One test per option of core's table: `entry` accepts it (a handle's own only where the entry
 * returns a handle) and checks its value by the table's rule. Adapters list none of core's
 * options, so an option added to the table is covered, and taken, without editing either.
 */
export function lockOptionsConformance(entry: LockOptionsEntry): void {
  const options = Object.entries(lockOptionTable) as [LockOptionName, (typeof lockOptionTable)[LockOptionName]][]
  test.each(options)("takes `%s` as core's table says", (option, rule) => {
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
  })
}
