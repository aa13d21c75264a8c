/** How a call ended: a synchronous throw, a rejection, or a value (sync or async). */
export type Outcome = { kind: 'threw'; error: unknown } | { kind: 'rejected'; error: unknown } | { kind: 'returned'; value: unknown }

export async function outcomeOf(call: () => unknown): Promise<Outcome> {
  let result: unknown
  try {
    result = call()
  } catch (error) {
    return { kind: 'threw', error }
  }
  if (result instanceof Promise) {
    try {
      return { kind: 'returned', value: await result }
    } catch (error) {
      return { kind: 'rejected', error }
    }
  }
  return { kind: 'returned', value: result }
}

/** A compact description for assertion messages. */
export function describeOutcome(outcome: Outcome): string {
  if (outcome.kind === 'returned') return `returned ${String(outcome.value)}`
  const error = outcome.error as { name?: string; code?: string; message?: string }
  return `${outcome.kind} ${error?.name} (${error?.code}): ${error?.message?.slice(0, 160)}`
}
