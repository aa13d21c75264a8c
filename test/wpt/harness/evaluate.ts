import { runInThisContext } from 'node:vm'

/**
 * Run a vendored file's source, unmodified, with `scope` as its global object.
 *
 * The source runs in this realm (not a `vm` context), because the tests compare the manager's
 * promises and errors with their own intrinsics: `Promise.resolve(p) === p` and
 * `e.constructor === TypeError` only hold when both come from one realm. A `with (scope)` block
 * around a function holding the source makes the file's free names (`promise_test`, `navigator`,
 * `self`, and what `resources/helpers.js` sets on `self`) resolve on `scope` first, then on the
 * real global. The file's own `'use strict'` stays its function's directive. The wrapper sits on
 * line 0, so stack traces point at the vendored file's own lines.
 */
export function evaluateInScope(source: string, filename: string, scope: object): void {
  const run = runInThisContext(wrapSource(source), { filename, lineOffset: -1 }) as (scope: object) => void
  run(scope)
}

/** The source as a function of its global scope (evaluate with `lineOffset: -1`). */
export function wrapSource(source: string): string {
  return `(function (scope) { with (scope) { (function () {\n${source}\n}).call(scope) } })`
}
