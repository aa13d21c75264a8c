import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the sources; the built packages are exercised by the packaging test.
    alias: [
      { find: /^@cachelock\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@cachelock\/core\/(store-kit|adapter-kit)$/, replacement: src('./packages/core/src/$1.ts') },
      // The stores' leaf entries: @cachelock/core/redis is packages/core/src/stores/redis/index.ts.
      { find: /^@cachelock\/core\/(redis|memcached|postgres|mysql|sqlite)$/, replacement: src('./packages/core/src/stores/$1/index.ts') },
      { find: /^@cachelock\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@cachelock\/prisma$/, replacement: src('./packages/prisma/src/index.ts') },
      { find: /^@cachelock\/typeorm$/, replacement: src('./packages/typeorm/src/index.ts') },
      { find: /^@cachelock\/nestjs\/typeorm$/, replacement: src('./packages/nestjs/src/typeorm/index.ts') },
      { find: /^@cachelock\/nestjs\/testing$/, replacement: src('./packages/nestjs/src/testing/index.ts') },
      { find: /^@cachelock\/nestjs$/, replacement: src('./packages/nestjs/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
