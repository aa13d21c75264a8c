/** An error for a log line: its message, or the value itself for a non-error (Web Locks rejects with any abort reason). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error))
}
