import { describe, expect, it } from 'vitest'
import { GrantOrder, type Ordered } from '../src/grant-order.js'

/**
 * GrantOrder keeps its bookkeeping on the requests and in reused slots (no Map). Checked against a
 * plain model of the rule: a grant is delivered once every attempt sent before its own has
 * answered, held-back grants in the order their attempts were sent. Random schedules over up to 150
 * requests, so the slots fill, are compacted and reused, with attempts re-sent after a refusal.
 */
class ModelOrder {
  #sent = 0
  readonly #out = new Map<object, number>()
  readonly #held: { sent: number; deliver: () => void }[] = []

  sent(request: object): void {
    this.#out.set(request, ++this.#sent)
  }

  answered(request: object, deliver?: () => void): void {
    const sent = this.#out.get(request) ?? 0
    this.#out.delete(request)
    if (deliver) this.#held.push({ sent, deliver })
    this.#held.sort((a, b) => a.sent - b.sent)
    const earliest = Math.min(...this.#out.values())
    while (this.#held.length > 0 && !(earliest < this.#held[0]!.sent)) this.#held.shift()!.deliver()
  }
}

/** A small seeded generator, so a failing schedule can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('GrantOrder against the model', () => {
  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('schedule %i: the same deliveries in the same order', (seed) => {
    const next = random(seed)
    const order = new GrantOrder()
    const model = new ModelOrder()
    const size = 1 + Math.floor(next() * 150)
    const requests: Ordered[] = Array.from({ length: size }, () => ({ orderSent: 0 }))
    const twins = new Map(requests.map((request) => [request, {}]))
    const out = new Set<Ordered>()
    const delivered: number[] = []
    const modelDelivered: number[] = []
    for (let step = 0; step < 2000; step++) {
      const request = requests[Math.floor(next() * size)]!
      const id = requests.indexOf(request)
      const roll = next()
      if (!out.has(request) && roll < 0.5) {
        out.add(request)
        order.sent(request)
        model.sent(twins.get(request)!)
      } else if (out.has(request) || roll < 0.55) {
        // Answered: granted (delivered in order) or refused (applied at once); also a grant with no attempt out.
        out.delete(request)
        const granted = next() < 0.6
        if (granted && next() < 0.5 && order.answeredAlone(request)) {
          model.answered(twins.get(request)!, () => modelDelivered.push(id))
          delivered.push(id)
        } else {
          order.answered(request, granted ? () => delivered.push(id) : undefined)
          model.answered(twins.get(request)!, granted ? () => modelDelivered.push(id) : undefined)
        }
      }
      expect(delivered).toEqual(modelDelivered)
    }
    for (const request of out) {
      order.answered(request, () => delivered.push(requests.indexOf(request)))
      model.answered(twins.get(request)!, () => modelDelivered.push(requests.indexOf(request)))
    }
    expect(delivered).toEqual(modelDelivered)
    // Nothing is out any more: a new grant goes at once.
    const last = requests[0]!
    order.sent(last)
    expect(order.answeredAlone(last)).toBe(true)
  })

  it('answeredAlone declines while another attempt is out, and changes nothing then', () => {
    const order = new GrantOrder()
    const [a, b] = [{ orderSent: 0 }, { orderSent: 0 }]
    order.sent(a)
    order.sent(b)
    expect(order.answeredAlone(b)).toBe(false)
    const delivered: string[] = []
    order.answered(b, () => delivered.push('b'))
    expect(delivered).toEqual([])
    order.answered(a, () => delivered.push('a'))
    expect(delivered).toEqual(['a', 'b'])
    expect(order.answeredAlone(a)).toBe(true)
  })

  it('an attempt sent again before its answer counts once (its latest number)', () => {
    const order = new GrantOrder()
    const a = { orderSent: 0 }
    order.sent(a)
    order.sent(a)
    order.answered(a)
    const b = { orderSent: 0 }
    order.sent(b)
    expect(order.answeredAlone(b)).toBe(true)
  })
})
