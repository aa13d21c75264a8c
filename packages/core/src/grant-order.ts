/**
 * Delivers one manager's grants in the order its store attempts were sent, across names, as if
 * the store answered in order. Web Locks grants requests in the order it processes them: three
 * shared requests on `a` and then one on `b`, all grantable at once, reach their callbacks
 * `a, a, a, b`. Each name asks the store on its own, and answers can come back in another order
 * (a Redis Cluster keeps `a` and `b` on different nodes, a multi-server memcached on different
 * servers), so a grant that arrives while an attempt sent before its own is still out waits for
 * that answer. The wait is bounded: every attempt settles within `storeTimeout`. On one
 * connection, whose answers come in order anyway, nothing ever waits. Refusals and failures are
 * applied as they come.
 */
export class GrantOrder {
  #sent = 0
  /** Attempts out, by what they were sent for, in the order they were sent (a Map keeps insertion order). */
  readonly #out = new Map<object, number>()
  /** Grants that came while an attempt sent before theirs was out, in the order their attempts were sent. */
  readonly #held: { sent: number; deliver: () => void }[] = []

  /** An attempt for `request` is out (one at a time per request). */
  sent(request: object): void {
    this.#out.set(request, ++this.#sent)
  }

  /**
   * The attempt for `request` has answered (or failed). A grant passes `deliver`, called now, or
   * once every attempt sent before this one has answered.
   */
  answered(request: object, deliver?: () => void): void {
    const sent = this.#out.get(request) ?? 0
    this.#out.delete(request)
    // Nothing else out, nothing waiting: the uncontended case.
    if (this.#out.size === 0 && this.#held.length === 0) {
      deliver?.()
      return
    }
    if (deliver) {
      if (this.#held.length === 0 && !(this.#earliestOut() < sent)) {
        deliver()
        return
      }
      let index = this.#held.length
      while (index > 0 && this.#held[index - 1]!.sent > sent) index--
      this.#held.splice(index, 0, { sent, deliver })
    }
    while (this.#held.length > 0 && !(this.#earliestOut() < this.#held[0]!.sent)) this.#held.shift()!.deliver()
  }

  #earliestOut(): number {
    if (this.#out.size === 0) return Infinity
    for (const sent of this.#out.values()) return sent
    return Infinity
  }
}
