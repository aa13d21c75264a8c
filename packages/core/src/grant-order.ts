/** What the order keeps on a request: the number of its attempt out, 0 while none is. */
export interface Ordered {
  orderSent: number
}

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
  /** How many attempts are out. */
  #out = 0
  // The attempts in the order they were sent (request, and the attempt's number, side by side), in
  // slots `#first` to `#end`; an entry is spent once its request's `orderSent` moved on. On the
  // request, not in a Map: every grant passes here, and a Map keyed by an object costs a hash
  // lookup on each step. The slots are reused, not shrunk: the uncontended case allocates nothing.
  readonly #sentRequests: (Ordered | undefined)[] = []
  readonly #sentNumbers: number[] = []
  #first = 0
  #end = 0
  /** Grants that came while an attempt sent before theirs was out, in the order their attempts were sent. */
  readonly #held: { sent: number; deliver: () => void }[] = []

  /** An attempt for `request` is out (one at a time per request). */
  sent(request: Ordered): void {
    if (request.orderSent === 0) this.#out++
    request.orderSent = ++this.#sent
    if (this.#end === this.#sentRequests.length) this.#compact()
    this.#sentRequests[this.#end] = request
    this.#sentNumbers[this.#end++] = this.#sent
  }

  /**
   * `answered` for a grant that may be delivered at once, in the uncontended case (no other
   * attempt out, no grant held back): true, and the caller delivers it. Otherwise false, and
   * nothing changed: call `answered` with `deliver`. (Saves the grant a closure.)
   */
  answeredAlone(request: Ordered): boolean {
    if (this.#held.length !== 0 || this.#out !== (request.orderSent === 0 ? 0 : 1)) return false
    this.answered(request)
    return true
  }

  /**
   * The attempt for `request` has answered (or failed). A grant passes `deliver`, called now, or
   * once every attempt sent before this one has answered.
   */
  answered(request: Ordered, deliver?: () => void): void {
    const sent = request.orderSent
    if (sent !== 0) {
      request.orderSent = 0
      if (--this.#out === 0) this.#forgetSent()
    }
    // Nothing else out, nothing waiting: the uncontended case.
    if (this.#out === 0 && this.#held.length === 0) {
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
    while (this.#first < this.#end) {
      const number = this.#sentNumbers[this.#first]!
      if (this.#sentRequests[this.#first]!.orderSent === number) return number
      this.#sentRequests[this.#first++] = undefined
    }
    return Infinity
  }

  /** Nothing out: every slot is free again (their requests let go). */
  #forgetSent(): void {
    for (let slot = this.#first; slot < this.#end; slot++) this.#sentRequests[slot] = undefined
    this.#first = 0
    this.#end = 0
  }

  /** The slots are full: move what is not spent to the front, or grow them. */
  #compact(): void {
    this.#earliestOut()
    if (this.#first === 0) return
    const live = this.#end - this.#first
    this.#sentRequests.copyWithin(0, this.#first, this.#end).fill(undefined, live, this.#end)
    this.#sentNumbers.copyWithin(0, this.#first, this.#end)
    this.#first = 0
    this.#end = live
  }
}
