'use strict'
// The shipped index.d.ts compiles, in strict mode, against usage as workflows write it.

const test = require('node:test')
const assert = require('node:assert')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

test('index.d.ts type-checks the workflows usage', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const run = spawnSync(
    process.execPath,
    [tsc, '--noEmit', '--strict', '--esModuleInterop', '--types', 'node,highland', path.join(__dirname, 'types.ts')],
    { encoding: 'utf8' },
  )
  assert.strictEqual(run.status, 0, run.stdout + run.stderr)
})
