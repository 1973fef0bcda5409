'use strict'
// The usage patterns of the recipes' workflow scripts (shared/recipes/dev/*/*.yml) and of the
// default metrics breed, run as workflows are: a child node that finds `vamp-node-client` and
// `highland` on NODE_PATH, with VAMP_URL and VAMP_API_CACHE=false from the runner.

const test = require('node:test')
const assert = require('node:assert')
const { serve, runScript, modulesFolder } = require('./support')

const TIMEOUT = { timeout: 15000 }
const modules = modulesFolder()

/**
 * A small stand-in for `vamp serve`: flat config, one gateway (read and replaced), a scale,
 * the metrics query, and `POST /events` recorded in `events`.
 */
async function fakeVamp(appPort) {
  const events = []
  const gateway = {
    name: 'cart/cart/web',
    lookup_name: 'cart_2fcart_2fweb',
    routes: {
      'cart/cart/cart:1.0/web': { weight: '100%', lookup_name: 'cart_v10' },
      'cart/cart/cart:1.1/web': { weight: '0%', lookup_name: 'cart_v11' },
    },
  }
  const server = await serve((request) => {
    const route = request.path.replace(/^\/api\/v1\//, '')
    const page = Number(request.query.page || 1)
    if (route === 'events' && request.method === 'POST') {
      events.push(JSON.parse(request.body))
      return { status: 201, body: request.body }
    }
    if (route === 'config') return { body: { 'vamp.gateway-driver.host': '127.0.0.1', 'app.port': appPort } }
    if (route === 'gateways') return { body: page === 1 ? [gateway] : [] }
    if (route === 'gateways/cart/cart/web' && request.method === 'GET') return { body: gateway }
    if (route === 'gateways/cart/cart/web' && request.method === 'PUT') {
      gateway.routes = JSON.parse(request.body).routes
      return { body: gateway }
    }
    if (route === 'deployments/pay/clusters/pay/services/pay:1/scale') {
      return { body: { cpu: 0.2, memory: '64MB', instances: 2 } }
    }
    if (route === 'metrics/query') {
      const query = JSON.parse(request.body)
      const name = query.filters[0].term.ft
      return { body: { total: 2 * query.window, avg: name.length + 0.004 } }
    }
    return undefined
  })
  return { server, events, gateway }
}

/** Runs `body(vamp, app)` with a fake Vamp and, given a handler, an app server; closes both. */
async function withVamp(appHandler, body) {
  const app = appHandler ? await serve(appHandler) : undefined
  const vamp = await fakeVamp(app ? Number(app.url.split(':').pop()) : 0)
  try {
    await body(vamp, app)
  } finally {
    await vamp.server.close()
    if (app) await app.close()
  }
}

async function run(script, vamp, env) {
  const result = await runScript(
    "'use strict'\n" + script,
    Object.assign({ VAMP_URL: vamp.server.url, VAMP_API_CACHE: 'false' }, env),
    modules,
  )
  assert.strictEqual(result.code, 0, result.stderr + result.stdout)
  return result
}

test('probe: config gives the host, Http.get reads the app, api.event reports', TIMEOUT, async () => {
  await withVamp(
    (request) => ({ body: { id: 'web-1', path: request.path.slice(1) } }),
    async (vamp, app) => {
      await run(
        `
      const vamp = require('vamp-node-client')
      const api = new vamp.Api()
      const http = new vamp.Http()
      let host
      const timer = setInterval(function () {
        if (!host) {
          api.config().each(function (config) { host = config['vamp.gateway-driver.host'] + ':' + config['app.port'] })
          return
        }
        clearInterval(timer)
        http.get('http://' + host + '/hello/there').then(function (body) {
          const r = JSON.parse(body)
          const good = r.id === 'web-1' && r.path === 'hello/there'
          api.event(['workflows:web-probe', good ? 'response:ok' : 'response:wrong'], body)
        }).catch(function (e) { api.event(['workflows:web-probe', 'response:error'], String(e)) })
      }, 100)
      `,
        vamp,
      )
      assert.deepStrictEqual(vamp.events, [
        {
          tags: ['workflows:web-probe', 'response:ok'],
          value: '{"id":"web-1","path":"hello/there"}',
          type: 'event',
        },
      ])
    },
  )
})

test('mover: get a gateway, PUT it back through Http.request, step until promoted', TIMEOUT, () =>
  withVamp(undefined, async (vamp) => {
    await run(
      `
      const vamp = require('vamp-node-client')
      const api = new vamp.Api()
      const http = new vamp.Http()
      const headers = {'Accept': 'application/json', 'Content-Type': 'application/json'}
      const name = process.env.GATEWAY, oldRoute = process.env.OLD, newRoute = process.env.NEW
      function pct(w) { return Number(String(w).replace('%', '')) }
      function step() {
        api.get('gateways/' + name).each(function (g) {
          const o = pct(g.routes[oldRoute].weight), n = pct(g.routes[newRoute].weight)
          if (o === 0 && n === 100) {
            clearInterval(timer)
            api.event(['workflows:cart-mover', 'promoted'], n)
            return
          }
          g.routes[oldRoute].weight = Math.max(o - 50, 0) + '%'
          g.routes[newRoute].weight = Math.min(n + 50, 100) + '%'
          http.request(api.url + '/gateways/' + name, {method: 'PUT', headers: headers}, JSON.stringify(g))
            .then(function () { api.event(['workflows:cart-mover', 'moved'], g.routes[newRoute].weight) })
            .catch(function (e) { api.event(['workflows:cart-mover', 'error'], String(e)) })
        })
      }
      const timer = setInterval(step, 100)
      `,
      vamp,
      { GATEWAY: 'cart/cart/web', OLD: 'cart/cart/cart:1.0/web', NEW: 'cart/cart/cart:1.1/web' },
    )
    assert.deepStrictEqual(
      vamp.events.map((e) => [e.tags[1], e.value]),
      [
        ['moved', '50%'],
        ['moved', '100%'],
        ['promoted', 100],
      ],
    )
    assert.strictEqual(vamp.gateway.routes['cart/cart/cart:1.0/web'].weight, '0%')
  }),
)

test('counter: highland sequences 100 Http.get promises, then reports the split', TIMEOUT, async () => {
  let hits = 0
  await withVamp(
    () => ({ body: { id: hits++ % 10 < 7 ? 'api-1' : 'api-2' } }),
    async (vamp, app) => {
      await run(
        `
      const _ = require('highland')
      const vamp = require('vamp-node-client')
      const api = new vamp.Api()
      const http = new vamp.Http()
      api.config().each(function (c) {
        const host = c['vamp.gateway-driver.host'] + ':' + c['app.port']
        const seen = {}
        _(Array.from({length: 100}, (x, i) => i))
          .map(() => _(http.get('http://' + host + '/').then(JSON.parse)))
          .sequence()
          .each(r => { seen[r.id] = (seen[r.id] || 0) + 1 })
          .done(() => {
            const a = seen['api-1'] || 0, b = seen['api-2'] || 0
            const exact = Math.abs(a - 70) <= 1 && Math.abs(b - 30) <= 1
            api.event(['workflows:split-counter', exact ? 'response:ok' : 'response:off'], a + '/' + b)
          })
      })
      `,
        vamp,
      )
      assert.strictEqual(app.requests.length, 100)
      assert.deepStrictEqual(vamp.events, [
        { tags: ['workflows:split-counter', 'response:ok'], value: '70/30', type: 'event' },
      ])
    },
  )
})

test('scale check and mock metrics: get of one object, events with a type', TIMEOUT, () =>
  withVamp(undefined, async (vamp) => {
    await run(
      `
      const vamp = require('vamp-node-client')
      const api = new vamp.Api()
      api.get('deployments/pay/clusters/pay/services/pay:1/scale').each(function (scale) {
        if (scale.instances === 2) api.event(['workflows:pay-scale-check', 'response:ok'], scale)
      })
      api.event(['gateways:pay/pay/web', 'gateway', 'metrics:responseTime'], 1500, 'metrics')
      `,
      vamp,
    )
    const byTag = (tag) => vamp.events.find((e) => e.tags.includes(tag))
    assert.deepStrictEqual(byTag('response:ok'), {
      tags: ['workflows:pay-scale-check', 'response:ok'],
      value: { cpu: 0.2, memory: '64MB', instances: 2 },
      type: 'event',
    })
    assert.deepStrictEqual(byTag('metrics:responseTime'), {
      tags: ['gateways:pay/pay/web', 'gateway', 'metrics:responseTime'],
      value: 1500,
      type: 'metrics',
    })
    assert.strictEqual(vamp.events.length, 2)
  }),
)

test('metrics breed: gateways, namify routes, average by lookup_name, events per route', TIMEOUT, () =>
  withVamp(undefined, async (vamp) => {
    await run(
      `
      const _ = require('highland')
      const vamp = require('vamp-node-client')
      const api = new vamp.Api()
      const metrics = new vamp.ElasticsearchMetrics(api)
      const window = Number(process.env.METRICS_TIME_WINDOW || 30)
      const type = process.env.VAMP_ELASTICSEARCH_EVENT_TYPE || 'metrics'
      api.gateways().flatMap(function (gateway) {
        return api.namify(gateway.routes).flatMap(function (route) {
          return metrics.average({ft: route.lookup_name}, 'Tt', window).map(function (m) {
            return {tags: ['gateways:' + gateway.name, 'routes:' + route.name, 'route', 'metrics:rate'], value: m.rate,
                    time: ['gateways:' + gateway.name, 'routes:' + route.name, 'route', 'metrics:responseTime'], average: m.average}
          })
        })
      }).each(function (m) {
        api.event(m.tags, m.value, type)
        api.event(m.time, m.average, type)
      })
      `,
      vamp,
      { METRICS_TIME_WINDOW: '4' },
    )
    const seen = vamp.events.map((e) => [e.tags.join(','), e.value, e.type]).sort()
    const g = 'gateways:cart/cart/web,routes:cart/cart/cart:'
    assert.deepStrictEqual(seen, [
      [g + '1.0/web,route,metrics:rate', 2, 'metrics'],
      [g + '1.0/web,route,metrics:responseTime', 8, 'metrics'],
      [g + '1.1/web,route,metrics:rate', 2, 'metrics'],
      [g + '1.1/web,route,metrics:responseTime', 8, 'metrics'],
    ])
  }),
)
