'use strict'
// Api against a test HTTP server: options, paged lazy `get`, the cache, eager writes, helpers.

const test = require('node:test')
const assert = require('node:assert')
const { logs, serve, closedPort, collect, runScript } = require('./support')
const { Api } = require('..')

const TIMEOUT = { timeout: 10000 }

/** A server with a list of `items` answered `per` at a time on `path`, `[]` past the end. */
function pages(path, items, per) {
  return (request) => {
    if (request.path !== path) return undefined
    const page = Number(request.query.page || 1)
    return { body: items.slice((page - 1) * per, page * per) }
  }
}

test('options: VAMP_URL, the namespace prefix, the default host and path', () => {
  process.env.VAMP_URL = 'http://vamp.test:8080'
  process.env.VAMP_NAMESPACE = 'team a/b'
  try {
    assert.strictEqual(new Api().url, 'http://vamp.test:8080/team%20a%2Fb/api/v1')
    assert.strictEqual(Api({ namespace: 'x', path: '/v2' }).url, 'http://vamp.test:8080/x/v2')
  } finally {
    delete process.env.VAMP_URL
    delete process.env.VAMP_NAMESPACE
  }
  assert.strictEqual(Api().url, 'http://127.0.0.1/api/v1')
  assert.strictEqual(Api({ host: 'http://h:1' }).url, 'http://h:1/api/v1')
  assert.strictEqual(Api({ url: 'http://h:2' }).url, 'http://h:2/api/v1')
})

test('construction logs the options with the token masked', () => {
  logs.length = 0
  Api({ host: 'http://h', token: 'secret-token' })
  const line = logs.find((l) => l.startsWith('API options: '))
  assert.ok(line, logs.join('\n'))
  assert.ok(!line.includes('secret-token'), line)
  const shown = JSON.parse(line.slice('API options: '.length))
  assert.strictEqual(shown.token, '***')
  assert.strictEqual(shown.headers.Authorization, 'token ***')
  assert.strictEqual(shown.host, 'http://h')
})

test('get pages until [] and emits the items; the query and a missing slash are handled', TIMEOUT, async () => {
  const server = await serve(pages('/api/v1/gateways', ['a', 'b', 'c', 'd', 'e'], 2))
  try {
    const api = Api({ host: server.url })
    assert.deepStrictEqual(await collect(api.get('gateways', false, 'x=1')), ['a', 'b', 'c', 'd', 'e'])
    assert.deepStrictEqual(
      server.requests.map((r) => r.url),
      [1, 2, 3, 4].map((n) => '/api/v1/gateways?page=' + n + '&x=1'),
    )
    assert.deepStrictEqual(await collect(Api({ host: server.url }).get('/gateways')), ['a', 'b', 'c', 'd', 'e'])
    assert.strictEqual(server.requests[4].url, '/api/v1/gateways?page=1')
  } finally {
    await server.close()
  }
})

test('get is lazy: nothing is requested until the stream is consumed', TIMEOUT, async () => {
  const server = await serve(() => ({ body: { a: 1 } }))
  try {
    const stream = Api({ host: server.url }).get('info')
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.strictEqual(server.requests.length, 0)
    assert.deepStrictEqual(await collect(stream), [{ a: 1 }])
    assert.strictEqual(server.requests.length, 1)
  } finally {
    await server.close()
  }
})

test('get emits a single object once, with one request', TIMEOUT, async () => {
  const server = await serve(() => ({ body: { instances: 2 } }))
  try {
    const api = Api({ host: server.url })
    assert.deepStrictEqual(await collect(api.get('deployments/pay/scale')), [{ instances: 2 }])
    assert.deepStrictEqual(
      server.requests.map((r) => r.url),
      ['/api/v1/deployments/pay/scale?page=1'],
    )
  } finally {
    await server.close()
  }
})

test('get sends the token, Accept and Content-Type; headers replace the set', TIMEOUT, async () => {
  const server = await serve(() => ({ body: {} }))
  try {
    await collect(Api({ host: server.url, token: 'abc' }).info())
    await collect(Api({ host: server.url }).info())
    await collect(Api({ host: server.url, token: 'abc', headers: { 'X-Only': 'me' } }).info())
    const [withToken, without, replaced] = server.requests
    assert.strictEqual(withToken.headers.authorization, 'token abc')
    assert.strictEqual(withToken.headers.accept, 'application/json')
    assert.strictEqual(withToken.headers['content-type'], 'application/json')
    assert.strictEqual(without.headers.authorization, 'token')
    assert.strictEqual(replaced.headers['x-only'], 'me')
    assert.strictEqual(replaced.headers.authorization, undefined)
    assert.strictEqual(replaced.headers.accept, undefined)
  } finally {
    await server.close()
  }
})

test('get failures emit nothing, end the stream and are logged', TIMEOUT, async () => {
  const server = await serve((request) =>
    request.path.endsWith('/broken') ? { status: 500, body: 'boom' } : { body: 'not json' },
  )
  try {
    const api = Api({ host: server.url })
    logs.length = 0
    assert.deepStrictEqual(await collect(api.get('broken')), [])
    assert.ok(
      logs.some((l) => l.includes('API GET /broken failed: [500]: boom')),
      logs.join('\n'),
    )
    assert.deepStrictEqual(await collect(api.get('text')), [])
    assert.ok(
      logs.some((l) => l.includes('API GET /text failed: the answer is not JSON')),
      logs.join('\n'),
    )
    const nobody = Api({ host: 'http://127.0.0.1:' + (await closedPort()) })
    assert.deepStrictEqual(await collect(nobody.get('info')), [])
    assert.ok(
      logs.some((l) => l.includes('API GET /info failed: connect ECONNREFUSED')),
      logs.join('\n'),
    )
  } finally {
    await server.close()
  }
})

test('the cache answers the last value of a path; force bypasses it; writes clear it', TIMEOUT, async () => {
  const server = await serve((request) => {
    if (request.method !== 'GET') return { body: 'done' }
    return pages('/api/v1/gateways', ['g1', 'g2', 'g3'], 2)(request)
  })
  try {
    const api = Api({ host: server.url })
    assert.deepStrictEqual(await collect(api.gateways()), ['g1', 'g2', 'g3'])
    const read = server.requests.length
    assert.deepStrictEqual(await collect(api.gateways()), ['g3'])
    assert.deepStrictEqual(await collect(api.get('/gateways', false, 'other=query')), ['g3'])
    assert.strictEqual(server.requests.length, read)
    assert.deepStrictEqual(await collect(api.gateways(true)), ['g1', 'g2', 'g3'])
    assert.strictEqual(server.requests.length, 2 * read)
    for (const write of [
      () => api.put('gateways', {}),
      () => api.post('/gateways', {}),
      () => api.delete('gateways'),
    ]) {
      await collect(write())
      const before = server.requests.length
      assert.deepStrictEqual(await collect(api.gateways()), ['g1', 'g2', 'g3'])
      assert.strictEqual(server.requests.length, before + read)
    }
  } finally {
    await server.close()
  }
})

test('the cache is off with VAMP_API_CACHE=false or the string "false", not with `cache: false`', TIMEOUT, async () => {
  const server = await serve(() => ({ body: { n: 1 } }))
  async function requestsOfTwoReads(api) {
    const before = server.requests.length
    await collect(api.info())
    await collect(api.info())
    return server.requests.length - before
  }
  try {
    assert.strictEqual(await requestsOfTwoReads(Api({ host: server.url, cache: false })), 1)
    assert.strictEqual(await requestsOfTwoReads(Api({ host: server.url, cache: 'false' })), 2)
    process.env.VAMP_API_CACHE = 'FALSE'
    try {
      assert.strictEqual(await requestsOfTwoReads(Api({ host: server.url })), 2)
    } finally {
      delete process.env.VAMP_API_CACHE
    }
  } finally {
    await server.close()
  }
})

test('event posts {tags, value, type} at the call, chunked, with the token', TIMEOUT, async () => {
  const server = await serve(() => ({ status: 201, body: { tags: ['a'] } }))
  try {
    const api = Api({ host: server.url, token: 't0k' })
    logs.length = 0
    api.event(['workflows:p', 'ok'], 1)
    api.event(['x'], undefined, 'metrics')
    const [first, second] = await server.received(2)
    assert.strictEqual(first.method, 'POST')
    assert.strictEqual(first.url, '/api/v1/events')
    assert.deepStrictEqual(JSON.parse(first.body), { tags: ['workflows:p', 'ok'], value: 1, type: 'event' })
    assert.strictEqual(first.headers.authorization, 'token t0k')
    assert.strictEqual(first.headers['transfer-encoding'], 'chunked')
    assert.strictEqual(first.headers['content-length'], undefined)
    assert.deepStrictEqual(JSON.parse(second.body), { tags: ['x'], type: 'metrics' })
    assert.ok(logs.includes('API PUT /events {"tags":["workflows:p","ok"],"value":1,"type":"event"}'), logs.join('\n'))
    assert.deepStrictEqual(await collect(api.event(['y'], 'v')), ['{"tags":["a"]}'])
  } finally {
    await server.close()
  }
})

test(
  'put, post and delete send at the call and yield the answer text; failures are stream errors',
  TIMEOUT,
  async () => {
    const server = await serve((request) =>
      request.path.endsWith('/bad') ? { status: 400, body: '{"message":"no"}' } : { body: 'ok ' + request.method },
    )
    try {
      const api = Api({ host: server.url })
      const put = api.put('breeds/b', { name: 'b' }, 'validate_only=true')
      const del = api.delete('breeds/b')
      const delWithBody = api.delete('/breeds/c', { name: 'c' })
      await server.received(3)
      assert.deepStrictEqual(
        server.requests.map((r) => [r.method, r.url, r.body]),
        [
          ['PUT', '/api/v1/breeds/b?validate_only=true', '{"name":"b"}'],
          ['DELETE', '/api/v1/breeds/b', ''],
          ['DELETE', '/api/v1/breeds/c', '{"name":"c"}'],
        ],
      )
      assert.deepStrictEqual(await collect(put), ['ok PUT'])
      assert.deepStrictEqual(await collect(del), ['ok DELETE'])
      assert.deepStrictEqual(await collect(delWithBody), ['ok DELETE'])
      assert.deepStrictEqual(await collect(api.post('blueprints', [1])), ['ok POST'])
      await assert.rejects(collect(api.post('bad', {})), { message: '[400]: {"message":"no"}' })
    } finally {
      await server.close()
    }
  },
)

test('config reads the flat map; info, deployments and gateways read their routes', TIMEOUT, async () => {
  const server = await serve((request) => {
    if (request.path === '/api/v1/config') return { body: { 'vamp.gateway-driver.host': '10.0.0.1' } }
    if (request.path === '/api/v1/info') return { body: { version: '1' } }
    return pages(request.path, [{ name: request.path.split('/').pop() }], 1)(request)
  })
  try {
    const api = Api({ host: server.url })
    assert.deepStrictEqual(await collect(api.config()), [{ 'vamp.gateway-driver.host': '10.0.0.1' }])
    assert.strictEqual(server.requests[0].url, '/api/v1/config?page=1&flatten=true')
    assert.deepStrictEqual(await collect(api.info()), [{ version: '1' }])
    assert.deepStrictEqual(await collect(api.deployments()), [{ name: 'deployments' }])
    assert.deepStrictEqual(await collect(api.gateways()), [{ name: 'gateways' }])
  } finally {
    await server.close()
  }
})

test('namify streams the values in key order, each named by its key', TIMEOUT, async () => {
  const routes = { 'shop/web/v2': { weight: '30%' }, 'shop/web/v1': { weight: '70%' } }
  const named = await collect(Api().namify(routes))
  assert.deepStrictEqual(named, [
    { weight: '30%', name: 'shop/web/v2' },
    { weight: '70%', name: 'shop/web/v1' },
  ])
  assert.strictEqual(routes['shop/web/v1'].name, 'shop/web/v1')
})

test('a failing event that nobody consumes leaves node running', TIMEOUT, async () => {
  const server = await serve(() => ({ status: 500, body: 'down' }))
  try {
    const script = `
      const vamp = require('vamp-node-client')
      const api = new vamp.Api()
      api.event(['workflows:p', 'ok'], 1)
      api.put('gateways/x', {})
      new vamp.Api({ host: 'http://127.0.0.1:${await closedPort()}' }).event(['a'], 1)
      setTimeout(() => console.log('still running'), 1000)
    `
    const run = await runScript(script, { VAMP_URL: server.url })
    assert.strictEqual(run.code, 0, run.stderr)
    assert.match(run.stdout, /still running/)
    assert.match(run.stdout, /API POST \/events failed: \[500\]: down/)
    assert.match(run.stdout, /API PUT \/gateways\/x failed: \[500\]: down/)
    assert.match(run.stdout, /API POST \/events failed: connect ECONNREFUSED/)
    assert.strictEqual(server.requests.length, 2)
  } finally {
    await server.close()
  }
})

test('the exports work with and without new', () => {
  const vamp = require('..')
  for (const name of ['Api', 'Http', 'Log', 'Util', 'ElasticsearchMetrics']) {
    const made = [new vamp[name](), vamp[name]()]
    for (const value of made) assert.strictEqual(typeof value, 'object', name)
  }
  assert.deepStrictEqual(Object.keys(vamp).sort(), ['Api', 'ElasticsearchMetrics', 'Http', 'Log', 'Util'])
})
