import type { LockView } from './inspect.js'

/** A name as it can be printed on one line: itself, or JSON-quoted when it holds control or unpaired characters. */
export function printableName(name: string): string {
  return name === '' || /[\u0000-\u001f\u007f-\u009f]/.test(name) || !name.isWellFormed() || name.trim() !== name
    ? JSON.stringify(name)
    : name
}

/**
 * A free lock, with the prefix it was looked up under: a missing or wrong `--prefix` is the usual
 * reason a lock the app holds shows as free.
 */
export function notHeld(name: string, prefix: string): string {
  return `${JSON.stringify(name)} is not held (looked under prefix ${JSON.stringify(prefix)}; pass --prefix if the app uses another)`
}

export function formatTtl(ms: number | null): string {
  if (ms === null) return '?'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.round(ms / 60_000)} min`
}

/** The `list` table: one row per lock. */
export function lockTable(locks: LockView[]): string {
  if (locks.length === 0) return 'No locks held.\n'
  const rows = locks.map((lock) => [
    printableName(lock.name),
    lock.mode,
    String(lock.holders.length),
    formatTtl(lock.ttlMs),
    lock.fencingToken === null ? '?' : String(lock.fencingToken),
  ])
  return table(['NAME', 'MODE', 'HOLDERS', 'TTL LEFT', 'FENCING TOKEN'], rows)
}

/** `show`: the lock, then one row per holder. */
export function lockDetails(lock: LockView): string {
  const head =
    `${printableName(lock.name)}: ${lock.mode}, ${lock.holders.length} holder${lock.holders.length === 1 ? '' : 's'}, ` +
    `ttl left ${formatTtl(lock.ttlMs)}, fencing token ${lock.fencingToken ?? '?'}\n`
  return (
    head +
    table(
      ['HOLDER (clientId)', 'MODE', 'TTL LEFT'],
      lock.holders.map((holder) => [holder.clientId, holder.mode, formatTtl(holder.ttlMs)]),
    )
  )
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)))
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')
  return `${[header, ...rows].map(line).join('\n')}\n`
}
