import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { compileFiles } from './compile.js'

/**
 * Type-checks the TypeScript snippets of a README as written, so an example a reader copies compiles.
 *
 * Conventions (HTML comments: invisible on GitHub and npm):
 *
 * - Every ```ts block is a module of its own, compiled with the package's compiler options, as if it
 *   were a file in the package.
 * - A block whose first line is `// name.ts` is that file: other blocks import it as `./name.js`.
 * - `<!-- snippet-context … -->`, once per README, declares in `declare global { … }` the app's
 *   own values the examples use without making them (`prisma`, `locks`, `dataSource`, `fn`): what
 *   the prose says the reader already has. It may import types, but may not declare a name that a
 *   package a snippet imports exports (`RedisStore`, `Redis`, `Entity`): a snippet that uses one
 *   imports it.
 * - `<!-- snippet: fragment (why) -->` on the line before a block exempts it: a block that is
 *   deliberately not code (a cheat sheet of abbreviated classes). Keep them rare; the reason is
 *   required, and the test reports how many there are.
 * - `./generated/prisma/client.js` is the Prisma client an app generates: here, the Prisma
 *   adapter's test client (generated when missing).
 */
export interface ReadmeCheck {
  /** The README, absolute. */
  readme: string
  /** The tsconfig whose compiler options the snippets compile with. */
  tsconfig: string
  /** Compiler options on top of the tsconfig's. */
  compilerOptions?: ts.CompilerOptions
}

export interface ReadmeResult {
  /** Blocks compiled. */
  compiled: number
  /** Blocks marked as fragments. */
  fragments: number
  /** Diagnostics, as `README.md:line: message`, and convention violations. */
  errors: string[]
}

interface Block {
  code: string
  /** 1-based README line of the block's first code line. */
  line: number
  fragment: boolean
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const packagesDir = join(root, 'packages')
const prismaClient = join(packagesDir, 'prisma', 'test', 'generated', 'sqlite', 'client', 'client.ts')

/** The ```ts blocks of a markdown text, and its context comment. */
export function readmeSnippets(
  markdown: string,
  readmeName = 'README.md',
): { blocks: Block[]; context: { code: string; line: number } | undefined; errors: string[] } {
  const lines = markdown.split('\n')
  const blocks: Block[] = []
  const errors: string[] = []
  let context: { code: string; line: number } | undefined
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!
    if (text.startsWith('<!-- snippet-context')) {
      const end = lines.findIndex((candidate, j) => j > i && candidate.trim() === '-->')
      if (context || end < 0) errors.push(`${readmeName}:${i + 1}: one <!-- snippet-context … --> per README, closed by a line "-->"`)
      else context = { code: lines.slice(i + 1, end).join('\n'), line: i + 2 }
      i = Math.max(i, end)
      continue
    }
    const fence = /^(\s*)```(ts|typescript)\s*$/.exec(text)
    if (!fence) continue
    const end = lines.findIndex((candidate, j) => j > i && candidate.trim() === '```')
    const code = lines
      .slice(i + 1, end)
      .map((codeLine) => codeLine.slice(fence[1]!.length))
      .join('\n')
    let before = i - 1
    while (before > 0 && lines[before]!.trim() === '') before--
    const previous = lines[before]?.trim() ?? ''
    const marker = /^<!-- snippet: fragment(.*)-->$/.exec(previous)
    if (marker && !/\(\s*\S[^)]*\)/.test(marker[1]!))
      errors.push(`${readmeName}:${before + 1}: a fragment marker needs its reason: <!-- snippet: fragment (why) -->`)
    if (previous.startsWith('<!-- snippet:') && !marker) errors.push(`${readmeName}:${before + 1}: unknown snippet marker ${previous}`)
    blocks.push({ code, line: i + 2, fragment: Boolean(marker) })
    i = end
  }
  return { blocks, context, errors }
}

/** Compile a README's snippets; see the conventions above. */
export function checkReadme(check: ReadmeCheck): ReadmeResult {
  const markdown = readFileSync(check.readme, 'utf8')
  const readmeName = relative(root, check.readme)
  const { blocks, context, errors } = readmeSnippets(markdown, readmeName)
  // The snippets live where the README does: a package's dependencies resolve as they would for
  // code in that package (and, for the root README, from any package that has them).
  const virtualDir = join(dirname(check.readme), '.readme-snippets')
  const files = new Map<string, { code: string; line: number }>()
  const compiled = blocks.filter((block) => !block.fragment)
  compiled.forEach((block, index) => {
    const name = /^\/\/ ([\w.-]+\.ts)\s*$/m.exec(block.code.split('\n')[0]!)?.[1] ?? `block-${index + 1}-line-${block.line}.ts`
    if (files.has(join(virtualDir, name))) errors.push(`${readmeName}:${block.line - 1}: a second block named ${name}`)
    // `export {}` makes every block a module, so blocks do not share top-level names.
    files.set(join(virtualDir, name), { code: `${block.code}\nexport {}\n`, line: block.line })
  })
  const contextFile = join(virtualDir, 'snippet-context.ts')
  if (context) files.set(contextFile, { code: `${context.code}\nexport {}\n`, line: context.line })
  const sources = [...files.values()].map((file) => file.code).join('\n')
  if (sources.includes('generated/prisma/client')) {
    if (!existsSync(prismaClient))
      execFileSync(process.execPath, [join(packagesDir, 'prisma', 'scripts', 'generate-test-clients.mjs')], { stdio: 'pipe' })
    files.set(join(virtualDir, 'generated', 'prisma', 'client.ts'), {
      code: `export * from ${JSON.stringify(prismaClient.replace(/\.ts$/, '.js'))}\n`,
      line: 0,
    })
  }

  const program = compileFiles({
    tsconfig: check.tsconfig,
    compilerOptions: check.compilerOptions,
    files: new Map([...files].map(([name, file]) => [name, file.code])),
    home: dirname(check.readme),
  })

  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file && files.get(diagnostic.file.fileName)
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    if (!diagnostic.file || !file) {
      errors.push(`${diagnostic.file ? relative(root, diagnostic.file.fileName) : readmeName}: ${message}`)
      continue
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
    errors.push(`${readmeName}:${file.line + line}: ${message}`)
  }
  if (context) errors.push(...contextShadowing(program, contextFile, [...files.keys()], `${readmeName}:${context.line}`))
  errors.sort((a, b) => lineOf(a) - lineOf(b))
  return { compiled: compiled.length, fragments: blocks.length - compiled.length, errors }
}

/** The context may not stand in for what a snippet should import. */
function contextShadowing(program: ts.Program, contextFile: string, fileNames: string[], where: string): string[] {
  const checker = program.getTypeChecker()
  const exported = new Map<string, string>()
  for (const fileName of fileNames) {
    const source = program.getSourceFile(fileName)
    for (const statement of source?.statements ?? []) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue
      const from = statement.moduleSpecifier.text
      // The app's own modules (`./generated/prisma/client.js`) may share names with the context.
      if (from.startsWith('.')) continue
      const clause = statement.importClause
      if (clause?.name) exported.set(clause.name.text, from)
      const bindings = clause?.namedBindings
      if (bindings && ts.isNamespaceImport(bindings)) exported.set(bindings.name.text, from)
      const moduleSymbol = checker.getSymbolAtLocation(statement.moduleSpecifier)
      for (const symbol of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) exported.set(symbol.name, from)
    }
  }
  const errors: string[] = []
  for (const statement of program.getSourceFile(contextFile)?.statements ?? []) {
    if (!ts.isModuleDeclaration(statement) || statement.name.getText() !== 'global' || !statement.body || !ts.isModuleBlock(statement.body))
      continue
    for (const declaration of statement.body.statements) {
      const names = ts.isVariableStatement(declaration)
        ? declaration.declarationList.declarations.map((variable) => variable.name.getText())
        : 'name' in declaration && declaration.name
          ? [(declaration.name as ts.Identifier).text]
          : []
      for (const name of names) {
        const from = exported.get(name)
        if (from)
          errors.push(`${where}: the snippet context declares \`${name}\`, which '${from}' exports: import it in the snippets instead`)
      }
    }
  }
  return errors
}

function lineOf(error: string): number {
  return Number(/^[^:]*:(\d+):/.exec(error)?.[1] ?? 0)
}
