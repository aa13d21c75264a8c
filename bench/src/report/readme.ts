import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const START = '<!-- results:start -->'
const END = '<!-- results:end -->'

/**
 * Put the generated table into a Markdown file between `<!-- results:start -->` and
 * `<!-- results:end -->`, so the Performance section never shows numbers from another run than
 * results.json. Returns whether the file had the markers.
 */
export function updateResultsBlock(path: string, markdown: string): boolean {
  if (!existsSync(path)) return false
  const text = readFileSync(path, 'utf8')
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start === -1 || end < start) return false
  writeFileSync(path, `${text.slice(0, start + START.length)}\n${markdown.trimEnd()}\n${text.slice(end)}`)
  return true
}
