'use strict'
// What the test files share: paths, the example, the shared fixtures of
// bindings/fixtures, the `vamp` command and an assertion on VampErrors.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const vamp = require('..')

const ROOT = path.join(__dirname, '..', '..', '..')
const EXAMPLE = path.join(ROOT, 'examples', 'sava-canary.yml')
const canary = fs.readFileSync(EXAMPLE, 'utf8')

/** A fixture file of bindings/fixtures (shared with the Python tests). */
function fixture(name) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'bindings', 'fixtures', name), 'utf8'))
}

/** The `vamp` command, to compare with what it prints (null when not built). */
function vampCli() {
  if (process.env.VAMP_CLI) return process.env.VAMP_CLI
  for (const dir of [process.env.CARGO_TARGET_DIR, path.join(ROOT, 'target')]) {
    if (dir && fs.existsSync(path.join(dir, 'debug', 'vamp'))) return path.join(dir, 'debug', 'vamp')
  }
  return null
}

/** Runs `fn`, asserts it throws a VampError, passes it to `check` and returns it. */
function throwsVamp(fn, check = () => {}) {
  let caught
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof vamp.VampError, `expected a VampError, got ${caught}`)
  assert.ok(caught instanceof Error)
  check(caught)
  return caught
}

module.exports = { ROOT, EXAMPLE, canary, fixture, vampCli, throwsVamp }
