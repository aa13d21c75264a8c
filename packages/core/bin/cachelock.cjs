#!/usr/bin/env node
// The `cachelock` command. This file is committed, not built: package managers link a bin when the
// package is installed, and in this repository that is before `pnpm build` made dist/ (a bin
// pointing into dist/ made every fresh install warn). The command itself is the built CLI.
'use strict'

let cli
try {
  cli = require.resolve('../dist/cli.cjs')
} catch {
  process.stderr.write('cachelock: the command is not built (no dist/cli.cjs): run `pnpm build` first\n')
  process.exit(1)
}
require(cli)
