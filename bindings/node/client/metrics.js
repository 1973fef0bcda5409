'use strict'
// ElasticsearchMetrics(api, options): the original's metrics calls, answered by the server's
// `POST /api/v1/metrics/query` over its own HAProxy access log instead of Elasticsearch
// (spec workflows.md §3.5). The Elasticsearch settings and variables are ignored.

const Api = require('./api')

/** Math.round(x·100)/100, as the pinned original. */
function round2(x) {
  return Math.round(x * 100) / 100
}

/** One decimal, with `null`/`NaN` read as 0, as the newer original rounds stats. */
function round1(x) {
  const n = Number(x)
  return Number.isFinite(n) ? Math.round(n * 10) / 10 : 0
}

/** `{F: v, G: w}` -> `[{term: {F: v}}, {term: {G: w}}]` (the server wants one key per filter). */
function split(kind, clauses) {
  return Object.keys(clauses || {}).map((field) => ({ [kind]: { [field]: clauses[field] } }))
}

/** Returns the metrics client; works with and without `new`. */
function ElasticsearchMetrics(api) {
  const client = api || Api()

  // One request, started now; a one-value stream of the parsed answer (errors as in `Api`).
  function query(seconds, filters, aggregation) {
    return client.post('metrics/query', { window: seconds, filters, aggregation }).map(JSON.parse)
  }

  function event(tags, value, type) {
    return client.event(tags, value, type || process.env.VAMP_ELASTICSEARCH_EVENT_TYPE || 'event')
  }

  return {
    /** The number of records matching `term` (and `range`, if given) in the last `seconds`. */
    count(term, range, seconds) {
      const filters = split('term', term).concat(split('range', range))
      return query(seconds, filters, { type: 'count' }).map((answer) => answer.total)
    },
    /** `{total, rate, average}` of `field` over the records matching `term`. */
    average(term, field, seconds) {
      return query(seconds, split('term', term), { type: 'avg', field }).map((answer) => ({
        total: answer.total,
        rate: round2(answer.total / seconds),
        average: round2(answer.avg === null || answer.avg === undefined ? 0 : answer.avg),
      }))
    },
    /** `{total, rate, avg, min, max, stdDeviation}` of `field` over `filters` (server filters). */
    stats(filters, field, seconds) {
      return query(seconds, filters, { type: 'stats', field }).map((answer) => ({
        total: answer.total,
        rate: round2(answer.total / seconds),
        avg: round1(answer.avg),
        min: round1(answer.min),
        max: round1(answer.max),
        stdDeviation: round1(answer.std_deviation),
      }))
    },
    /** `{total, rate, percentile: {"50.0": v, ...}}` of `field` over `filters` (server filters). */
    percentile(filters, field, seconds, percents) {
      return query(seconds, filters, { type: 'percentiles', field, percents }).map((answer) => {
        const values = answer.values || {}
        const percentile = {}
        for (const key of Object.keys(values)) percentile[key] = round1(values[key])
        return { total: answer.total, rate: round2(answer.total / seconds), percentile }
      })
    },
    /** `api.event(tags, value, type)`; the type defaults to $VAMP_ELASTICSEARCH_EVENT_TYPE, then `event`. The salt is ignored. */
    event: (tags, value, type) => event(tags, value, type),
    /** The same as `event`: the server stores the value as given. */
    eventV2: (tags, value, type) => event(tags, value, type),
    /** Searching the event index is not provided. */
    search() {
      throw new Error('search is not supported')
    },
  }
}

module.exports = ElasticsearchMetrics
