import { readdirSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages')

export interface CompileFiles {
  /** The tsconfig whose compiler options to use. */
  tsconfig: string
  /** Compiler options on top of the tsconfig's. */
  compilerOptions?: ts.CompilerOptions | undefined
  /** Files to compile, by absolute path: new ones, or a real file's text replaced. */
  files: ReadonlyMap<string, string>
  /** The directory whose dependencies a bare import resolves from first (then every package's). */
  home: string
}

/** A type-checked program of `files` (nothing is emitted). */
export function compileFiles(compile: CompileFiles): ts.Program {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    compile.tsconfig,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  )
  if (!parsed) throw new Error(`cannot read ${compile.tsconfig}`)
  const options: ts.CompilerOptions = { ...parsed.options, ...compile.compilerOptions, noEmit: true, allowImportingTsExtensions: true }
  // Nothing is emitted: the files need not sit under the package's rootDir.
  delete options.rootDir
  return ts.createProgram([...compile.files.keys()], options, virtualHost(options, compile.files, compile.home))
}

/** A host that serves the virtual files, and resolves a bare import from other packages when the README's own cannot. */
function virtualHost(options: ts.CompilerOptions, files: ReadonlyMap<string, string>, home: string): ts.CompilerHost {
  const host = ts.createCompilerHost(options)
  const fileExists = host.fileExists.bind(host)
  const readFile = host.readFile.bind(host)
  const getSourceFile = host.getSourceFile.bind(host)
  const directoryExists = host.directoryExists?.bind(host)
  host.directoryExists = (dir) => [...files.keys()].some((file) => file.startsWith(dir + '/')) || (directoryExists?.(dir) ?? true)
  host.fileExists = (file) => files.has(file) || fileExists(file)
  host.readFile = (file) => files.get(file) ?? readFile(file)
  host.getSourceFile = (file, language, ...rest) => {
    const virtual = files.get(file)
    return virtual !== undefined ? ts.createSourceFile(file, virtual, language, true) : getSourceFile(file, language, ...rest)
  }
  // The integration package (nestjs) last: its peers pin the older lines (TypeORM 0.3), while the
  // adapters' own sources are written against what their package has.
  const order = ['core', 'prisma', 'typeorm']
  const packages = readdirSync(packagesDir).sort((a, b) => rank(order, a) - rank(order, b))
  const fallbacks = [home, ...packages.map((dir) => join(packagesDir, dir))].map((dir) => join(dir, 'index.ts'))
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, compilerOptions, containingSource) =>
    literals.map((literal) => {
      const mode = ts.getModeForUsageLocation(containingSource, literal, compilerOptions)
      const resolve = (from: string) => ts.resolveModuleName(literal.text, from, compilerOptions, host, undefined, redirected, mode)
      const own = resolve(containingFile)
      if (own.resolvedModule || !files.has(containingFile) || literal.text.startsWith('.') || isAbsolute(literal.text)) return own
      for (const from of fallbacks) {
        const found = resolve(from)
        if (found.resolvedModule) return found
      }
      return own
    })
  return host
}

function rank(order: string[], name: string): number {
  const index = order.indexOf(name)
  return index < 0 ? order.length : index
}
