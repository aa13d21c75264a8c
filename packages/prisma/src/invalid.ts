import { InvalidLockArgumentError } from '@cachelock/core'

/**
 * The core's "Expected `x` to be …, got …" message, for when what came in is best described in
 * words ("an object with keys id, status") rather than by `describeValue`.
 */
export function invalidShape(argument: string, expected: string, received: string): InvalidLockArgumentError {
  return new InvalidLockArgumentError(argument, `Expected \`${argument}\` to be ${expected}, got ${received}`)
}
