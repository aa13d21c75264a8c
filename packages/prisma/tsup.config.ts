import { defineConfig } from 'tsup'

// As in core: one CommonJS build, and scripts/esm-wrappers.mjs writes the ESM entry as a thin
// re-export of it, so `import` and `require` share one module instance.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  // Declarations import @cachelock/core's published types instead of inlining its sources (the
  // base tsconfig maps the name to them for tests and typechecking).
  dts: { compilerOptions: { paths: {} } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // The app's own copies: one Prisma runtime (its error classes, its extension context) and one
  // core (the default manager, the record-lock flow state).
  external: ['@cachelock/core', '@prisma/client'],
})
