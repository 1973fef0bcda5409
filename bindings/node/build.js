#!/usr/bin/env node
// Builds the native addon with cargo (profile `bindings`) and copies it to vamp.node.
// Runs on `npm install` (the package's install script), without the napi CLI
// (`npm run build` builds with `napi build`, which also writes index.d.ts);
// needs only cargo. Honors CARGO_TARGET_DIR; set VAMP_NODE_PROFILE=dev for a
// debug build.
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const dir = __dirname
const profile = process.env.VAMP_NODE_PROFILE || 'bindings'
const args = ['build', '--message-format=json-render-diagnostics', '--profile', profile]
const cargo = process.env.CARGO || 'cargo'
const run = spawnSync(cargo, args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20 })
if (run.error) {
  console.error(`vamp: cannot run ${cargo} (install Rust from https://rustup.rs): ${run.error.message}`)
  process.exit(1)
}
if (run.status !== 0) process.exit(run.status || 1)

let lib = null
for (const line of run.stdout.toString().split('\n')) {
  if (!line.startsWith('{')) continue
  const msg = JSON.parse(line)
  if (msg.reason === 'compiler-artifact' && msg.target && msg.target.name === 'vamp_node') {
    lib = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || lib
  }
}
if (!lib) {
  console.error('vamp: cargo built no vamp_node library')
  process.exit(1)
}
const dest = path.join(dir, 'vamp.node')
fs.rmSync(dest, { force: true })
fs.copyFileSync(lib, dest)
console.log(`vamp: built ${path.relative(process.cwd(), dest) || dest}`)
