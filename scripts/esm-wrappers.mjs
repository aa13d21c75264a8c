// Writes each package's ESM entries as re-exports of its CommonJS build (run from the package
// directory after tsup). One implementation behind both `import` and `require` means one copy of
// every class: `instanceof` works whichever way the app and its libraries load the package.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const require = createRequire(resolve('package.json'))

for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target !== 'object') continue
  const cjs = target.require.default
  const esm = target.import.default
  const names = Object.keys(require(resolve(cjs))).filter((name) => name !== '__esModule' && name !== 'default')
  const from = `./${cjs.split('/').pop()}`
  writeFileSync(
    esm,
    `// ESM entry for ${pkg.name}${subpath === '.' ? '' : subpath.slice(1)}: the CommonJS build, re-exported.\n` +
      `import cjs from '${from}'\n\n` +
      `export const {\n${names.map((name) => `  ${name},`).join('\n')}\n} = cjs\n`,
  )
  copyFileSync(target.require.types, target.import.types)
  console.log(`${pkg.name}${subpath.slice(1)}: ${esm} (${names.length} exports), ${target.import.types}`)
}
