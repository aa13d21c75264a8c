/**
 * Progress on stderr while the bench runs, so stdout carries only the result table. On a terminal
 * the line is rewritten in place; in CI logs (not a TTY) every update is its own line, throttled.
 */
export class Progress {
  readonly #tty = process.stderr.isTTY === true
  #lastPrinted = 0
  #width = 0

  update(text: string): void {
    if (this.#tty) {
      const line = text.length > 119 ? `${text.slice(0, 118)}…` : text
      process.stderr.write(`\r${line.padEnd(this.#width)}`)
      this.#width = line.length
      return
    }
    const now = performance.now()
    if (now - this.#lastPrinted < 1000) return
    this.#lastPrinted = now
    process.stderr.write(`${text}\n`)
  }

  /** A line that stays (a case finished, a warning). */
  log(text: string): void {
    this.clear()
    process.stderr.write(`${text}\n`)
    this.#lastPrinted = 0
  }

  clear(): void {
    if (this.#tty && this.#width > 0) process.stderr.write(`\r${' '.repeat(this.#width)}\r`)
    this.#width = 0
  }
}
