'use strict'
// The workflow client ships in the `vamp` package: `require('vamp').client`
// and `require('vamp/client')` are the same module.
const test = require('node:test')
const assert = require('node:assert')
const vamp = require('..')

test('client: the package exposes vamp-node-client', () => {
  assert.strictEqual(vamp.client, require('../client'))
  const api = new vamp.client.Api({ url: 'http://127.0.0.1:1' })
  assert.strictEqual(api.url, 'http://127.0.0.1:1/api/v1')
  for (const name of ['Api', 'Http', 'Log', 'Util', 'ElasticsearchMetrics']) {
    assert.strictEqual(typeof vamp.client[name], 'function', name)
  }
})
