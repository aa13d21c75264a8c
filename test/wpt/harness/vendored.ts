import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Where the vendored WPT files live (byte for byte, see ORIGIN.md there). */
export const VENDOR_DIR = fileURLToPath(new URL('../web-locks/', import.meta.url))

/** One row of ORIGIN.md's table: where a vendored file comes from and what its bytes must be. */
export interface VendoredFile {
  /** Path under `web-locks/`, e.g. `resources/helpers.js`. */
  path: string
  commit: string
  bytes: number
  /** `git hash-object` of the file: sha1 over `blob <size>\0` and the bytes. */
  blob: string
}

/** ORIGIN.md's table, the single record of what each vendored file must be. */
export function vendoredFiles(dir = VENDOR_DIR): VendoredFile[] {
  const origin = readFileSync(`${dir}ORIGIN.md`, 'utf8')
  const rows = [...origin.matchAll(/^\| ([\w./-]+\.js) \| ([0-9a-f]{40}) \| (\d+) \| ([0-9a-f]{40}) \|$/gm)]
  return rows.map(([, path, commit, bytes, blob]) => ({ path: path!, commit: commit!, bytes: Number(bytes), blob: blob! }))
}

/** The WPT test files (not their resources), in ORIGIN.md's order. */
export function wptTestFiles(): string[] {
  return vendoredFiles()
    .map((file) => file.path)
    .filter((path) => !path.startsWith('resources/'))
}

/** What `git hash-object` prints for these bytes. */
export function gitBlobHash(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex')
}

/**
 * The source of a vendored file, after checking its bytes against ORIGIN.md: what runs is
 * exactly what was vendored, or nothing runs.
 */
export function vendoredSource(path: string, dir = VENDOR_DIR): string {
  const record = vendoredFiles(dir).find((file) => file.path === path)
  if (!record) throw new Error(`${path} is not listed in web-locks/ORIGIN.md`)
  const bytes = readFileSync(dir + path)
  const blob = gitBlobHash(bytes)
  if (blob !== record.blob) throw new Error(`web-locks/${path} was modified: git blob ${blob}, ORIGIN.md records ${record.blob}`)
  return bytes.toString('utf8')
}
