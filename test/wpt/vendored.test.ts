import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { gitBlobHash, VENDOR_DIR, vendoredFiles, vendoredSource } from './harness/vendored.js'

/** The vendored WPT files are the upstream bytes, as ORIGIN.md records them. */
describe('vendored web-platform-tests files', () => {
  const files = vendoredFiles()

  it('ORIGIN.md lists every vendored .js file, and only those', () => {
    const onDisk = readdirSync(VENDOR_DIR, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith('.js'))
    expect(files.map((file) => file.path).sort()).toEqual(onDisk.sort())
    expect(files).toHaveLength(14)
  })

  for (const file of files) {
    it(`${file.path} has the recorded size and git blob hash`, () => {
      const bytes = readFileSync(VENDOR_DIR + file.path)
      expect(bytes.length).toBe(file.bytes)
      expect(gitBlobHash(bytes)).toBe(file.blob)
    })
  }

  it('computes the hash git does (`git hash-object` of "hello\\n")', () => {
    expect(gitBlobHash(Buffer.from('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a')
  })

  it('the license text sits beside the files', () => {
    expect(readFileSync(`${VENDOR_DIR}LICENSE.md`, 'utf8')).toContain('The 3-Clause BSD License')
  })

  it('refuses to hand out the source of a file that is not recorded', () => {
    expect(() => vendoredSource('not-vendored.js')).toThrow(/not listed/)
  })
})
