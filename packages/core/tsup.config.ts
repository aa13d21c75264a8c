import { defineConfig } from 'tsup'

// One CommonJS build; scripts/esm-wrappers.mjs then writes the ESM entries as thin re-exports of
// it, so `import` and `require` load the same module instance and `instanceof` holds across both.
const stores = ['redis', 'memcached', 'postgres', 'mysql', 'sqlite'] as const

export default defineConfig([
  {
    entry: {
      // Three audiences: the app (index), store authors (store-kit, and the contract suite in
      // testing), adapter authors (adapter-kit).
      index: 'src/index.ts',
      'store-kit': 'src/store-kit.ts',
      'adapter-kit': 'src/adapter-kit.ts',
      testing: 'src/testing/index.ts',
      // Each store is a leaf entry (`@cachelock/core/redis`, …), which `createStore()` also loads
      // lazily, at a store's first operation.
      ...Object.fromEntries(stores.map((store) => [store, `src/stores/${store}/index.ts`])),
    },
    format: ['cjs'],
    // Code shared by several entries (errors, keys, the stores createStore() loads lazily) goes to
    // chunks every entry requires, so there is one copy of each class whichever entry loads first.
    splitting: true,
    outExtension: () => ({ js: '.cjs' }),
    // Declarations resolve the package's own name to its sources (the testing entry imports it).
    dts: { compilerOptions: { baseUrl: '.', paths: { '@cachelock/core': ['./src/index.ts'] } } },
    sourcemap: true,
    // The build script empties dist/ first: two configs cleaning it would race.
    clean: false,
    target: 'node20',
    platform: 'node',
    shims: true,
    // The testing entry imports the package by name: it must share the main entry's classes.
    external: ['@cachelock/core', 'ioredis', 'memjs', '@opentelemetry/api', 'pg', 'mysql2', 'better-sqlite3'],
  },
  // The `cachelock` command, which bin/cachelock.cjs (committed, so the bin exists before a build)
  // requires. It bundles the CLI's own modules and takes the library itself from the package's
  // entries (the one copy an app loads), by name.
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    shims: true,
    external: ['@cachelock/core', 'ioredis', 'memjs', '@opentelemetry/api', 'pg', 'mysql2', 'better-sqlite3'],
    esbuildPlugins: [
      {
        name: 'library-by-name',
        setup(build) {
          build.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: '@cachelock/core', external: true }))
          build.onResolve({ filter: /^\.\.\/stores\/[a-z]+\/index\.js$/ }, ({ path }) => ({
            path: `@cachelock/core/${path.split('/')[2]}`,
            external: true,
          }))
        },
      },
    ],
  },
])
