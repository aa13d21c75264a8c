import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../..', import.meta.url))

/** How a script run ended. `code` is null when it had to be killed (it would not exit by itself). */
export interface ScriptRun {
  code: number | null
  killed: boolean
  stdout: string
  stderr: string
  /** The JSON lines it printed. */
  lines: Record<string, unknown>[]
}

/**
 * A project outside the workspace whose `node_modules/@cachelock/core` is the built package, so a
 * script there loads cachelock the way an app does: `require` from CommonJS, `import` from ESM,
 * with Node's own module loading (no tsx, no vitest). `build()` runs `pnpm build` for core once.
 */
export class ScratchApp {
  readonly dir = mkdtempSync(join(tmpdir(), 'cachelock-scripts-'))

  static build(): ScratchApp {
    execFileSync('pnpm', ['--filter', '@cachelock/core', 'run', 'build'], { cwd: root, stdio: 'pipe' })
    const app = new ScratchApp()
    mkdirSync(join(app.dir, 'node_modules', '@cachelock'), { recursive: true })
    symlinkSync(join(root, 'packages', 'core'), join(app.dir, 'node_modules', '@cachelock', 'core'))
    return app
  }

  /**
   * Write `source` to `file` (`.cjs` or `.mjs`) and run it with plain `node`. Resolves when it
   * exits; a script still running after `killAfterMs` is killed and reported with `killed: true`.
   * `onLine` sees each JSON line as it is printed (to drive the script's counterpart).
   */
  run(
    file: string,
    source: string,
    options: { killAfterMs: number; onLine?: (line: Record<string, unknown>) => void },
  ): Promise<ScriptRun> {
    writeFileSync(join(this.dir, file), source)
    return new Promise((resolve) => {
      const lines: Record<string, unknown>[] = []
      let seen = 0
      const child = execFile(
        process.execPath,
        [file],
        { cwd: this.dir, timeout: options.killAfterMs, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          parse(stdout)
          const killed = child.signalCode === 'SIGKILL'
          resolve({ code: killed ? null : (child.exitCode ?? (error ? 1 : 0)), killed, stdout, stderr, lines })
        },
      )
      let buffered = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        parse(buffered)
      })
      function parse(text: string) {
        const complete = text.split('\n').slice(0, -1)
        for (const line of complete.slice(seen)) {
          seen++
          try {
            const parsed = JSON.parse(line) as Record<string, unknown>
            lines.push(parsed)
            options.onLine?.(parsed)
          } catch {
            lines.push({ event: 'stdout', line })
          }
        }
      }
    })
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
