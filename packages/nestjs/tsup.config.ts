import { defineConfig } from 'tsup'

// As the other packages: one CommonJS build, and scripts/esm-wrappers.mjs writes the ESM entries as
// thin re-exports of it, so `import` and `require` share one copy of every class and token.
export default defineConfig({
  entry: { index: 'src/index.ts', typeorm: 'src/typeorm/index.ts', testing: 'src/testing/index.ts' },
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  // Declarations import the other packages' published types (built first: `pnpm -r` builds in
  // dependency order); this package's own name resolves to its sources (the testing entry imports
  // it). TypeORM's types are the adapter's, as in tsconfig.json.
  dts: {
    compilerOptions: {
      baseUrl: '.',
      paths: { '@cachelock/nestjs': ['./src/index.ts'], typeorm: ['../typeorm/node_modules/typeorm/index.d.ts'] },
    },
  },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // The app's own copies: one Nest (its DI tokens and decorators), one core (the LockManager class
  // is the injection token), one TypeORM and adapter. The other entries import the main one by name.
  external: [/^@nestjs\//, /^@cachelock\//, 'typeorm', 'reflect-metadata', 'rxjs'],
})
