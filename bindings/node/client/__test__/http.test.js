'use strict'
// Http, Util and Log: promises of bodies, status rejections, chunked data, TLS settings, flags.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const https = require('node:https')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { logs, serve, tempFolder, closedPort } = require('./support')
const { Http, Util, Log } = require('..')

const TIMEOUT = { timeout: 10000 }

test('request resolves with the body on 2xx and rejects with [<status>]: <body> otherwise', TIMEOUT, async () => {
  const server = await serve((request) => {
    if (request.path === '/created') return { status: 201, body: 'made' }
    if (request.path === '/moved') return { status: 302, body: '', headers: { Location: '/created' } }
    return { status: 404, body: 'not here' }
  })
  try {
    const http = new Http()
    assert.strictEqual(await http.request(server.url + '/created'), 'made')
    await assert.rejects(http.request(server.url + '/missing'), { message: '[404]: not here' })
    await assert.rejects(http.get(server.url + '/moved'), { message: '[302]: ' })
    assert.deepStrictEqual(
      server.requests.map((r) => [r.method, r.path]),
      [
        ['GET', '/created'],
        ['GET', '/missing'],
        ['GET', '/moved'],
      ],
    )
  } finally {
    await server.close()
  }
})

test('request rejects with the socket error when nothing listens', TIMEOUT, async () => {
  await assert.rejects(Http().get('http://127.0.0.1:' + (await closedPort()) + '/'), { code: 'ECONNREFUSED' })
})

test('data goes out chunked with the given method and headers; get forces GET', TIMEOUT, async () => {
  const server = await serve((request) => ({ body: request.method + ' ' + request.body }))
  try {
    const http = Http()
    const options = { method: 'PUT', headers: { 'X-Name': 'v' } }
    assert.strictEqual(await http.request(server.url + '/g?a=1', options, '{"w":1}'), 'PUT {"w":1}')
    assert.strictEqual(await http.get(server.url + '/g', options), 'GET ')
    assert.strictEqual(options.method, 'PUT')
    const [put, get] = server.requests
    assert.strictEqual(put.url, '/g?a=1')
    assert.strictEqual(put.headers['x-name'], 'v')
    assert.strictEqual(put.headers['transfer-encoding'], 'chunked')
    assert.strictEqual(put.headers['content-length'], undefined)
    assert.strictEqual(get.headers['transfer-encoding'], undefined)
    assert.strictEqual(await http.request(server.url + '/g', { headers: { 'Content-Length': '2' } }, 'ab'), 'GET ab')
    assert.strictEqual(server.requests[2].headers['content-length'], '2')
  } finally {
    await server.close()
  }
})

test('each request logs its options (token hidden), its data and its status under one number', TIMEOUT, async () => {
  const server = await serve(() => ({ status: 202, body: '' }))
  try {
    logs.length = 0
    await Http().request(server.url + '/x', { method: 'POST', headers: { Authorization: 'token s3cret' } }, 'body')
    const request = logs.find((l) => l.startsWith('HTTP REQUEST ['))
    const id = request.match(/^HTTP REQUEST \[(\d+)\] /)[1]
    const shown = JSON.parse(request.slice(request.indexOf('{')))
    assert.strictEqual(shown.method, 'POST')
    assert.strictEqual(shown.path, '/x')
    assert.strictEqual(shown.headers.Authorization, 'token ***')
    assert.ok(!logs.some((l) => l.includes('s3cret')), logs.join('\n'))
    assert.ok(logs.includes('HTTP REQUEST DATA [' + id + '] body'), logs.join('\n'))
    assert.ok(logs.includes('HTTP RESPONSE [' + id + '] 202'), logs.join('\n'))
  } finally {
    await server.close()
  }
})

test('https checks certificates unless VAMP_TLS_CHECK is false; VAMP_CA names the CA', TIMEOUT, async (t) => {
  const folder = tempFolder('vamp-tls-')
  const key = path.join(folder, 'key.pem')
  const cert = path.join(folder, 'cert.pem')
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ])
  if (made.error || made.status !== 0) {
    t.skip('openssl is not available to make a test certificate')
    return
  }
  const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) =>
    res.end('secure'),
  )
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = 'https://127.0.0.1:' + server.address().port + '/'
  try {
    await assert.rejects(Http().get(url), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    process.env.VAMP_TLS_CHECK = ' False '
    assert.strictEqual(await Http().get(url), 'secure')
    process.env.VAMP_TLS_CHECK = 'true'
    await assert.rejects(Http().get(url), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    process.env.VAMP_CA = cert
    assert.strictEqual(await Http().get(url), 'secure')
  } finally {
    delete process.env.VAMP_TLS_CHECK
    delete process.env.VAMP_CA
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

test('Util.boolean is true only for true, yes and 1, trimmed, in any case', () => {
  const util = new Util()
  for (const yes of [true, 'true', ' TRUE ', 'yes', 'Yes', 1, '1', ' 1\n']) {
    assert.strictEqual(util.boolean(yes), true, JSON.stringify(yes))
  }
  for (const no of [false, 'false', 'no', 0, '0', '', 'y', 'on', 2, undefined, null, {}]) {
    assert.strictEqual(util.boolean(no), false, JSON.stringify(no))
  }
})

test('Log().log prints like console.log', () => {
  logs.length = 0
  new Log().log('a', 1, 'b')
  Log().log('c')
  assert.deepStrictEqual(logs, ['a 1 b', 'c'])
})
