/**
 * Stores whose every call is settled when it returns (the memory store: synchronous inside, in this
 * process). The manager skips `storeTimeout`'s bookkeeping for them (see `StoreDeadline`): nothing
 * can time out. Each such store registers a check that recognises its own instances and nothing
 * else, not a subclass that may delay its calls, nor a proxy or wrapper of one; so the manager
 * names no store.
 */
const checks: ((store: object) => boolean)[] = []

/** @internal Called once by such a store's module. */
export function registerSettledStore(check: (store: object) => boolean): void {
  checks.push(check)
}

/** Whether `store` answers every call at once, by its own module's check. */
export function answersAtOnce(store: object): boolean {
  return checks.some((check) => check(store))
}
