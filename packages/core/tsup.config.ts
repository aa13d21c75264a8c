import { defineConfig } from 'tsup'

// One CommonJS build; scripts/esm-wrappers.mjs then writes the ESM entries as thin re-exports of
// it, so `import` and `require` load the same module instance and `instanceof` holds across both.
export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  // Declarations resolve the package's own name to its sources (the testing entry imports it).
  dts: { compilerOptions: { baseUrl: '.', paths: { '@cachelock/core': ['./src/index.ts'] } } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
  // The testing entry imports the package by name: it must share the main entry's classes.
  external: ['@cachelock/core', 'ioredis', 'memjs', 'pg', 'mysql2', 'better-sqlite3'],
})
