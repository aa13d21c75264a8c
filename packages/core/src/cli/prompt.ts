import { createInterface } from 'node:readline'

/**
 * Ask `question` on `output` and read one line from `input`: true only for y or yes. Input that
 * ends without an answer (a closed pipe, Ctrl-D) is a no.
 */
export function confirm(question: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<boolean> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, terminal: false })
    let answered = false
    output.write(`${question} [y/N] `)
    lines.once('line', (line) => {
      answered = true
      resolve(/^\s*y(es)?\s*$/i.test(line))
      lines.close()
    })
    // Also emitted by close() above, synchronously: only an answerless end means no.
    lines.once('close', () => {
      if (answered) return
      output.write('\n')
      resolve(false)
    })
  })
}
