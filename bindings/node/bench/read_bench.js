#!/usr/bin/env node
// Reading + validating a ~1 MB stream of blueprints through `vamp`, against
// js-yaml's loadAll merely parsing the same text, side by side in one process.
//
//   node bindings/node/bench/read_bench.js [rounds]
//
// The stream is the one of bindings/python/bench/stream.py:
// examples/sava-canary.yml repeated with renamed blueprints and breeds until
// it reaches ~1 MB. Prints best-of-N times and the ratios js-yaml / vamp
// (> 1 means vamp is faster).
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const yaml = require('js-yaml')
const vamp = require('..')

function blueprintStream(targetBytes = 1_000_000) {
  const base = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'examples', 'sava-canary.yml'), 'utf8')
  const docs = []
  let size = 0
  for (let i = 0; size < targetBytes; i++) {
    const doc = base.replace('name: sava-canary', `name: sava-canary-${i}`).replaceAll('sava:1.', `sava-${i}:1.`)
    docs.push(doc)
    size += Buffer.byteLength(doc) + 4
  }
  return docs.join('---\n')
}

// Interleaved rounds, best of each: the minimum is the estimate least
// disturbed by other work on a shared machine.
function bestOf(fns, rounds) {
  const mins = fns.map(() => Infinity)
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const t0 = process.hrtime.bigint()
      fn()
      mins[i] = Math.min(mins[i], Number(process.hrtime.bigint() - t0) / 1e6)
    })
  }
  return mins
}

const rounds = Number(process.argv[2] || 15)
const text = blueprintStream()
const n = text.split('\n---\n').length
// Setup outside the timed loops: the stream is valid and both agree.
if (vamp.check(text).length !== 0) throw new Error('the benchmark stream has diagnostics')
if (vamp.read(text).length !== n || yaml.loadAll(text).length !== n) throw new Error('document counts differ')
bestOf([() => yaml.loadAll(text), () => vamp.read(text)], 2) // JIT warm-up
const [tYaml, tRead, tCheck] = bestOf([() => yaml.loadAll(text), () => vamp.read(text), () => vamp.check(text)], rounds)
console.log(`stream: ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB, ${n} blueprints, best of ${rounds} rounds`)
console.log(`js-yaml loadAll (parse only):             ${tYaml.toFixed(1).padStart(8)} ms`)
console.log(`vamp.read  (parse + validate + objects):  ${tRead.toFixed(1).padStart(8)} ms   ratio js-yaml/vamp.read  = ${(tYaml / tRead).toFixed(2)}x`)
console.log(`vamp.check (parse + validate):            ${tCheck.toFixed(1).padStart(8)} ms   ratio js-yaml/vamp.check = ${(tYaml / tCheck).toFixed(2)}x`)
