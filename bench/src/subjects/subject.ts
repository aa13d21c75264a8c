/**
 * A lock library under test, reduced to what every case needs: take `key` (waiting the library's
 * own way, with its default retry settings), run `critical` while holding it, release it.
 * Contenders call it with a fresh key per contender, so no two libraries ever meet on one key.
 */
export interface LockSubject {
  readonly id: string
  readonly label: string
  /** Resolves once released; rejects when the library gave up waiting (its retry limit). */
  run(key: string, critical: () => unknown, signal?: AbortSignal): Promise<void>
  close?(): Promise<void>
}
