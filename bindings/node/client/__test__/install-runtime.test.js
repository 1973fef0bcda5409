'use strict'
// install-runtime.sh makes a folder that, as NODE_PATH alone, lets a workflow script require
// `vamp-node-client` and `highland`; a second run replaces them and keeps other entries.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { CLIENT, serve, tempFolder, runScript } = require('./support')

const SCRIPT = path.join(CLIENT, 'install-runtime.sh')

test('install-runtime.sh prepares a NODE_PATH folder with the client and highland', { timeout: 120000 }, async (t) => {
  if (spawnSync('npm', ['--version']).status !== 0) {
    t.skip('npm is not installed')
    return
  }
  const dest = path.join(tempFolder('vamp-runtime-'), 'node_modules')
  fs.mkdirSync(dest)
  fs.mkdirSync(path.join(dest, 'other'))
  for (let round = 0; round < 2; round++) {
    const made = spawnSync('bash', [SCRIPT, dest], { encoding: 'utf8' })
    assert.strictEqual(made.status, 0, made.stderr)
    assert.match(made.stdout, /put it on NODE_PATH/)
  }
  const entries = fs.readdirSync(dest).sort()
  assert.deepStrictEqual(entries, ['highland', 'other', 'util-deprecate', 'vamp-node-client'])
  const client = fs.readdirSync(path.join(dest, 'vamp-node-client')).sort()
  assert.deepStrictEqual(client, [
    'README.md',
    'api.js',
    'http.js',
    'index.d.ts',
    'index.js',
    'log.js',
    'metrics.js',
    'package.json',
    'redact.js',
    'util.js',
  ])
  const highland = JSON.parse(fs.readFileSync(path.join(dest, 'highland', 'package.json'), 'utf8'))
  assert.match(highland.version, /^2\.13\./)

  const server = await serve(() => ({ status: 201, body: '{}' }))
  try {
    const run = await runScript(
      `const _ = require('highland')
       const vamp = require('vamp-node-client')
       console.log(require.resolve('vamp-node-client'))
       _([1]).each(() => vamp.Api().event(['installed'], 1).done(() => console.log('sent')))`,
      { VAMP_URL: server.url },
      dest,
    )
    assert.strictEqual(run.code, 0, run.stderr)
    assert.ok(run.stdout.includes(path.join(fs.realpathSync(dest), 'vamp-node-client', 'index.js')), run.stdout)
    assert.match(run.stdout, /sent/)
    assert.deepStrictEqual(JSON.parse(server.requests[0].body), { tags: ['installed'], value: 1, type: 'event' })
  } finally {
    await server.close()
  }
})

test('install-runtime.sh without a folder prints its usage', () => {
  const run = spawnSync('bash', [SCRIPT], { encoding: 'utf8' })
  assert.strictEqual(run.status, 2)
  assert.match(run.stderr, /usage: .*install-runtime\.sh DIR/)
})
