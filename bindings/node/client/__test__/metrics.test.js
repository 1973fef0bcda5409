'use strict'
// ElasticsearchMetrics against a test server answering `POST /api/v1/metrics/query` as spec
// workflows.md §3.5 does: the requests it sends, the rounding, and the shapes it yields.

const test = require('node:test')
const assert = require('node:assert')
const { serve, collect } = require('./support')
const { Api, ElasticsearchMetrics } = require('..')

const TIMEOUT = { timeout: 10000 }

/** Answers the metrics query with `answers[aggregation.type]`, and events with 201. */
async function metricsServer(answers) {
  return serve((request) => {
    if (request.method === 'POST' && request.path === '/api/v1/events') return { status: 201, body: request.body }
    if (request.method !== 'POST' || request.path !== '/api/v1/metrics/query') return undefined
    const query = JSON.parse(request.body)
    const answer = answers[query.aggregation.type]
    return answer === undefined ? { status: 400, body: { message: 'bad aggregation' } } : { body: answer }
  })
}

function queries(server) {
  return server.requests.filter((r) => r.path === '/api/v1/metrics/query').map((r) => JSON.parse(r.body))
}

test('count sends one term filter per key plus the range, and yields total', TIMEOUT, async () => {
  const server = await metricsServer({ count: { total: 3 } })
  try {
    const metrics = new ElasticsearchMetrics(Api({ host: server.url }))
    assert.deepStrictEqual(await collect(metrics.count({ ft: 'shop_2fweb' }, { ST: { gte: 500 } }, 30)), [3])
    assert.deepStrictEqual(await collect(metrics.count({ ft: 'a', s: 'b' }, undefined, 5)), [3])
    assert.deepStrictEqual(queries(server), [
      {
        window: 30,
        filters: [{ term: { ft: 'shop_2fweb' } }, { range: { ST: { gte: 500 } } }],
        aggregation: { type: 'count' },
      },
      { window: 5, filters: [{ term: { ft: 'a' } }, { term: { s: 'b' } }], aggregation: { type: 'count' } },
    ])
  } finally {
    await server.close()
  }
})

test('average rounds to 2 decimals, computes the rate, and reads a null avg as 0', TIMEOUT, async () => {
  const server = await metricsServer({ avg: { total: 7, avg: 12.3456 } })
  try {
    const metrics = ElasticsearchMetrics(Api({ host: server.url }))
    assert.deepStrictEqual(await collect(metrics.average({ ft: 'shop' }, 'Tt', 3)), [
      { total: 7, rate: 2.33, average: 12.35 },
    ])
    assert.deepStrictEqual(queries(server), [
      { window: 3, filters: [{ term: { ft: 'shop' } }], aggregation: { type: 'avg', field: 'Tt' } },
    ])
  } finally {
    await server.close()
  }
  const empty = await metricsServer({ avg: { total: 0, avg: null } })
  try {
    const metrics = ElasticsearchMetrics(Api({ host: empty.url }))
    assert.deepStrictEqual(await collect(metrics.average({ ft: 'shop' }, 'Tt', 30)), [
      { total: 0, rate: 0, average: 0 },
    ])
  } finally {
    await empty.close()
  }
})

test('stats and percentile pass the filters as given and round as the newer original', TIMEOUT, async () => {
  const server = await metricsServer({
    stats: { total: 10, avg: 20.26, min: 1.04, max: 99.96, std_deviation: 5.55 },
    percentiles: { total: 10, values: { '50.0': 20.04, '95.0': 90.96, 99.9: null } },
  })
  const filters = [{ term: { ft: 'shop' } }, { range: { Tt: { gt: 0 } } }]
  try {
    const metrics = ElasticsearchMetrics(Api({ host: server.url }))
    assert.deepStrictEqual(await collect(metrics.stats(filters, 'Tt', 3)), [
      { total: 10, rate: 3.33, avg: 20.3, min: 1, max: 100, stdDeviation: 5.6 },
    ])
    assert.deepStrictEqual(await collect(metrics.percentile(filters, 'Tt', 3, [50, 95, 99.9])), [
      { total: 10, rate: 3.33, percentile: { '50.0': 20, '95.0': 91, 99.9: 0 } },
    ])
    assert.deepStrictEqual(queries(server), [
      { window: 3, filters, aggregation: { type: 'stats', field: 'Tt' } },
      { window: 3, filters, aggregation: { type: 'percentiles', field: 'Tt', percents: [50, 95, 99.9] } },
    ])
  } finally {
    await server.close()
  }
  const empty = await metricsServer({ stats: { total: 0, avg: null, min: null, max: null, std_deviation: null } })
  try {
    const metrics = ElasticsearchMetrics(Api({ host: empty.url }))
    assert.deepStrictEqual(await collect(metrics.stats([], 'Tt', 30)), [
      { total: 0, rate: 0, avg: 0, min: 0, max: 0, stdDeviation: 0 },
    ])
  } finally {
    await empty.close()
  }
})

test('each metrics request starts at the call, and a failing one is a stream error', TIMEOUT, async () => {
  const server = await metricsServer({ count: { total: 1 } })
  try {
    const metrics = ElasticsearchMetrics(Api({ host: server.url }))
    const counted = metrics.count({ ft: 'x' }, null, 10)
    await server.received(1)
    assert.deepStrictEqual(await collect(counted), [1])
    await assert.rejects(collect(metrics.average({ ft: 'x' }, 'Tt', 10)), {
      message: '[400]: {"message":"bad aggregation"}',
    })
  } finally {
    await server.close()
  }
})

test(
  'event and eventV2 publish through the API with the type from the call, the variable, or event',
  TIMEOUT,
  async () => {
    const server = await metricsServer({})
    try {
      const metrics = ElasticsearchMetrics(Api({ host: server.url }))
      metrics.event(['gateways:g', 'health'], 1, 'health', 'salt')
      await server.received(1)
      process.env.VAMP_ELASTICSEARCH_EVENT_TYPE = 'metrics'
      try {
        metrics.eventV2(['a'], { x: 1 })
      } finally {
        delete process.env.VAMP_ELASTICSEARCH_EVENT_TYPE
      }
      await server.received(2)
      metrics.event(['b'], 2)
      const events = (await server.received(3)).map((r) => JSON.parse(r.body))
      assert.deepStrictEqual(events, [
        { tags: ['gateways:g', 'health'], value: 1, type: 'health' },
        { tags: ['a'], value: { x: 1 }, type: 'metrics' },
        { tags: ['b'], value: 2, type: 'event' },
      ])
    } finally {
      await server.close()
    }
  },
)

test('search is not supported', () => {
  assert.throws(() => ElasticsearchMetrics(Api()).search({ tags: ['x'] }, 30, 10), {
    message: 'search is not supported',
  })
})
