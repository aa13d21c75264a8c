import { readFileSync } from 'node:fs'
import { dirname, relative } from 'node:path'
import ts from 'typescript'
import { compileFiles } from './compile.js'

/**
 * Where the errors of a type-test file's `@ts-expect-error` lines start.
 *
 * `tsc` proves that each `// @ts-expect-error` line has an error; it does not say where. A
 * directive written `// @ts-expect-error on \`timout\`: …` also says the error must start at
 * `timout` (its first occurrence on the next line), and nowhere else on that line: a misspelt
 * option reported on the option, not as a failed overload on the call. This compiles the file
 * with the directives lifted and compares.
 */
export function errorLocations(
  file: string,
  tsconfig: string,
  compilerOptions?: ts.CompilerOptions,
): { checked: number; problems: string[] } {
  const text = readFileSync(file, 'utf8')
  const lines = text.split('\n')
  const lineStarts = lines.reduce<number[]>((starts, line, i) => [...starts, i === 0 ? 0 : starts[i - 1]! + lines[i - 1]!.length + 1], [])
  const marks = lines.flatMap((line, i) => {
    const token = /\/\/ @ts-expect-error on `([^`]+)`/.exec(line)?.[1]
    return token === undefined ? [] : [{ line: i + 1, token, column: lines[i + 1]?.indexOf(token) ?? -1 }]
  })
  // Same length, so positions in the lifted text are positions in the file.
  const lifted = text.replaceAll('@ts-expect-error', ' ts-expect-error')
  const program = compileFiles({ tsconfig, compilerOptions, files: new Map([[file, lifted]]), home: dirname(file) })
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((diagnostic) => diagnostic.file?.fileName === file)
  const name = relative(process.cwd(), file)
  const problems: string[] = []
  for (const mark of marks) {
    const where = `${name}:${mark.line + 1}`
    if (mark.column < 0) {
      problems.push(`${where}: \`${mark.token}\` is not on this line`)
      continue
    }
    const expected = lineStarts[mark.line]! + mark.column
    const onLine = diagnostics.filter((diagnostic) => {
      const start = diagnostic.start ?? -1
      return start >= lineStarts[mark.line]! && start < lineStarts[mark.line]! + lines[mark.line]!.length
    })
    if (onLine.length === 0) problems.push(`${where}: no error (expected one at \`${mark.token}\`)`)
    for (const diagnostic of onLine) {
      if (diagnostic.start === expected) continue
      const at = lines[mark.line]!.slice(diagnostic.start! - lineStarts[mark.line]!).slice(0, 30)
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n').split('\n')[0]
      problems.push(`${where}: error at \`${at}…\`, expected at \`${mark.token}\`: ${message}`)
    }
  }
  return { checked: marks.length, problems }
}
