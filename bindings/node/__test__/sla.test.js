'use strict'
// SlaEvaluator: the SLA engine fed with samples or log lines, giving exactly
// what `vamp sla evaluate --format json` prints.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const vamp = require('..')
const { ROOT, EXAMPLE, canary, fixture, vampCli, throwsVamp } = require('./support')

const SAMPLES = path.join(ROOT, 'examples', 'sava-samples.jsonl')
const samplesText = fs.readFileSync(SAMPLES, 'utf8')
const FIXTURES = fixture('sla.json')
const EXPECTED = FIXTURES.example_outputs
const BAD_SLA = FIXTURES.bad_sla

/** JavaScript naming of the keys of a fixture object. */
const camel = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_(.)/g, (_, c) => c.toUpperCase()), v]))

function steady(rt, start = 1000, seconds = 30) {
  return Array.from({ length: seconds }, (_, i) => ({ ...FIXTURES.steady, timestamp: start + i, response_time: rt }))
}

test('SlaEvaluator: the example log gives what the CLI prints', () => {
  const ev = new vamp.SlaEvaluator(canary)
  const lines = samplesText.split('\n')
  assert.deepEqual([...ev.feedLines(lines), ...ev.finish()], EXPECTED)
  const cli = vampCli()
  if (cli) {
    const out = execFileSync(cli, ['sla', 'evaluate', '--blueprint', EXAMPLE, '--logs', SAMPLES, '--format', 'json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    assert.deepEqual(out.trim().split('\n').map((l) => JSON.parse(l)), EXPECTED)
  }
})

test('SlaEvaluator: text, Buffers and sample objects are one stream', () => {
  for (const input of [samplesText, Buffer.from(samplesText), samplesText.split('\n').map((l) => Buffer.from(l))]) {
    const ev = new vamp.SlaEvaluator(Buffer.from(canary))
    assert.deepEqual([...ev.feedLines(input), ...ev.finish()], EXPECTED)
  }
  const ev = new vamp.SlaEvaluator(canary)
  const samples = samplesText.trim().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual([...ev.feedSamples(samples), ...ev.finish()], EXPECTED)
  assert.equal(ev.stats().samples, samples.length)
})

test('SlaEvaluator: escalation on a slow stream', () => {
  const ev = new vamp.SlaEvaluator(canary)
  // the evaluation at 1000 s runs when the sample of 1001 s arrives
  assert.deepEqual(ev.feedSamples(steady(1500)), FIXTURES.slow_outputs)
  assert.deepEqual(ev.finish(), [])
})

test('SlaEvaluator: de-escalation on a fast stream', () => {
  const ev = new vamp.SlaEvaluator(canary)
  const out = [...ev.feedSamples(steady(50)), ...ev.finish()]
  assert.deepEqual(out, FIXTURES.fast_outputs)
})

test('SlaEvaluator: periodSeconds spaces the evaluations', () => {
  const ev = new vamp.SlaEvaluator(canary, { periodSeconds: 60 })
  const out = [...ev.feedSamples(steady(1500, 1001)), ...ev.finish()]
  assert.deepEqual(out.map((o) => o.timestamp), [1020, 1020])
})

test('SlaEvaluator: malformed lines and samples are counted, not fatal', () => {
  const ev = new vamp.SlaEvaluator(canary)
  const lines = [...FIXTURES.malformed_lines, JSON.stringify(steady(1500)[0])]
  assert.deepEqual(ev.feedLines(lines), [])
  assert.deepEqual(ev.feedSamples(['not an object', null, { cluster: 'sava' }, [1, 2]]), [])
  assert.deepEqual(ev.stats(), camel(FIXTURES.malformed_stats))
  assert.throws(() => ev.feedSamples('x'), TypeError)
  assert.throws(() => ev.feedLines(42), TypeError)
})

test('SlaEvaluator: a blueprint that does not read, with code and position', () => {
  const bad = canary.replace('upper: 1000', 'upper: [1000')
  const e = throwsVamp(() => new vamp.SlaEvaluator(bad))
  assert.equal(e.code, 'yaml_parsing')
  assert.equal(typeof e.line, 'number')
  assert.equal(typeof e.column, 'number')
  const kind = throwsVamp(() => new vamp.SlaEvaluator(canary.replace('kind: blueprint', 'kind: gateway')))
  assert.deepEqual([kind.code, kind.line, kind.column], ['inconsistent_artifact_kind', 3, 7])
})

test('SlaEvaluator: an SLA with bad parameters', () => {
  const e = throwsVamp(() => new vamp.SlaEvaluator(BAD_SLA))
  assert.ok(e instanceof vamp.ValidationError)
  assert.equal(e.code, 'invalid_sla')
  assert.match(e.message, /percentile/)
  assert.equal(e.line, null)
  assert.deepEqual(e.errors.map((d) => d.code), ['invalid_sla'])
})

test('SlaEvaluator: notices list what is not monitored', () => {
  assert.deepEqual(new vamp.SlaEvaluator(canary).notices, [])
  const notices = new vamp.SlaEvaluator(canary.replace('type: response_time_sliding_window', 'type: my_own_sla')).notices
  assert.deepEqual(notices.map((n) => n.cluster), ['sava'])
  assert.match(notices[0].message, /my_own_sla/)
})
