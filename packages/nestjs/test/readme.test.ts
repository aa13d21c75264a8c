import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execFileSync } from 'node:child_process'
import ts from 'typescript'
import { expect, test } from 'vitest'

// Every ```ts block of the README is type-checked as written, with this package's compiler options.
// A block whose first line is `// name.ts` is that file, and other blocks import it as './name.js';
// the Prisma block's generated client is the Prisma adapter's test client (the same schema kind).
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const prismaDir = join(packageDir, '..', 'prisma')
const virtualDir = join(packageDir, 'test', 'readme')

test('the README’s code compiles', () => {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)
  expect(blocks.length).toBeGreaterThan(10)
  const files = new Map<string, string>()
  blocks.forEach((code, index) => {
    const name = /^\/\/ ([\w.-]+\.ts)\n/.exec(code)?.[1] ?? `block-${index + 1}.ts`
    files.set(join(virtualDir, name), code)
  })
  const prismaClient = join(prismaDir, 'test', 'generated', 'sqlite', 'client', 'client.ts')
  if (!existsSync(prismaClient))
    execFileSync(process.execPath, [join(prismaDir, 'scripts', 'generate-test-clients.mjs')], { stdio: 'pipe' })
  files.set(join(virtualDir, 'generated', 'prisma', 'client.ts'), `export * from ${JSON.stringify(prismaClient.replace(/\.ts$/, '.js'))}\n`)

  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(packageDir, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  )!
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    allowImportingTsExtensions: true,
    paths: {
      ...parsed.options.paths,
      // What a Prisma application installs; here it is the Prisma adapter's development dependency.
      '@prisma/adapter-better-sqlite3': [join(prismaDir, 'node_modules', '@prisma', 'adapter-better-sqlite3', 'dist', 'index.d.mts')],
    },
  }
  const host = ts.createCompilerHost(options)
  const fileExists = host.fileExists.bind(host)
  const readFile = host.readFile.bind(host)
  const getSourceFile = host.getSourceFile.bind(host)
  const directoryExists = host.directoryExists?.bind(host)
  host.directoryExists = (dir) => dir.startsWith(virtualDir) || (directoryExists?.(dir) ?? true)
  host.fileExists = (file) => files.has(file) || fileExists(file)
  host.readFile = (file) => files.get(file) ?? readFile(file)
  host.getSourceFile = (file, language, ...rest) =>
    files.has(file) ? ts.createSourceFile(file, files.get(file)!, language, true) : getSourceFile(file, language, ...rest)
  const program = ts.createProgram([...files.keys()], options, host)
  const errors = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file
      ? `${diagnostic.file.fileName.replace(`${virtualDir}/`, 'README: ')}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}`
      : ''
    return `${where} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`
  })
  expect(errors).toEqual([])
}, 120_000)
