import { defineConfig } from 'tsup'

// As core: one CommonJS build, and scripts/esm-wrappers.mjs writes the ESM entry as a re-export of
// it, so `import` and `require` share one copy of LockedRowError (and of everything else).
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
  // The adapter imports only types from typeorm; core is the user's copy, shared with their own locks.
  external: ['@cachelock/core', 'typeorm'],
})
