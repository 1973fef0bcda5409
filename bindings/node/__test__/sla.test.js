'use strict'
// SlaEvaluator: the SLA engine fed with samples or log lines, giving exactly
// what `vamp sla evaluate --format json` prints.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const vamp = require('..')

const ROOT = path.join(__dirname, '..', '..', '..')
const EXAMPLE = path.join(ROOT, 'examples', 'sava-canary.yml')
const SAMPLES = path.join(ROOT, 'examples', 'sava-samples.jsonl')
const canary = fs.readFileSync(EXAMPLE, 'utf8')
const samplesText = fs.readFileSync(SAMPLES, 'utf8')

// vamp sla evaluate --blueprint examples/sava-canary.yml --logs examples/sava-samples.jsonl --format json
const action = (t, from, to) => ({ timestamp: t, action: 'scale_instances', cluster: 'sava', service: 'sava:1.0.0', from, to })
const EXPECTED = [
  { timestamp: 1763800148, cluster: 'sava', event: 'escalate' },
  action(1763800148, 2, 3),
  { timestamp: 1763800328, cluster: 'sava', event: 'escalate' },
  action(1763800328, 3, 4),
  { timestamp: 1763800508, cluster: 'sava', event: 'deescalate' },
  action(1763800508, 4, 3),
]

const BAD_SLA = `name: bad
clusters:
  sava:
    services:
      - breed:
          name: sava:1.0.0
          deployable: magneticio/sava:1.0.0
    sla:
      type: response_time_percentile
      percentile: 150
      threshold:
        upper: 1000
        lower: 100
      window:
        interval: 60
        cooldown: 120
`

function steady(rt, start = 1000, seconds = 30) {
  return Array.from({ length: seconds }, (_, i) => ({
    timestamp: start + i,
    cluster: 'sava',
    service: 'sava:1.0.0',
    response_time: rt,
    status: 200,
  }))
}

function vampCli() {
  if (process.env.VAMP_CLI) return process.env.VAMP_CLI
  for (const dir of [process.env.CARGO_TARGET_DIR, path.join(ROOT, 'target')]) {
    if (dir && fs.existsSync(path.join(dir, 'debug', 'vamp'))) return path.join(dir, 'debug', 'vamp')
  }
  return null
}

function throwsVamp(fn) {
  let caught
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof vamp.VampError, `expected a VampError, got ${caught}`)
  return caught
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
  assert.deepEqual(ev.feedSamples(steady(1500)), [
    { timestamp: 1000, cluster: 'sava', event: 'escalate' },
    action(1000, 2, 3),
  ])
  assert.deepEqual(ev.finish(), [])
})

test('SlaEvaluator: de-escalation on a fast stream', () => {
  const ev = new vamp.SlaEvaluator(canary)
  const out = [...ev.feedSamples(steady(50)), ...ev.finish()]
  assert.deepEqual(out, [{ timestamp: 1000, cluster: 'sava', event: 'deescalate' }, action(1000, 2, 1)])
})

test('SlaEvaluator: periodSeconds spaces the evaluations', () => {
  const ev = new vamp.SlaEvaluator(canary, { periodSeconds: 60 })
  const out = [...ev.feedSamples(steady(1500, 1001)), ...ev.finish()]
  assert.deepEqual(out.map((o) => o.timestamp), [1020, 1020])
})

test('SlaEvaluator: malformed lines and samples are counted, not fatal', () => {
  const ev = new vamp.SlaEvaluator(canary)
  const lines = [
    'not json',
    '',
    '   \n',
    '{"timestamp": 1, "cluster": "sava"}',
    '{"timestamp": 1, "cluster": "other", "response_time": 5, "status": 200}',
    JSON.stringify(steady(1500)[0]),
  ]
  assert.deepEqual(ev.feedLines(lines), [])
  assert.deepEqual(ev.feedSamples(['not an object', null, { cluster: 'sava' }, [1, 2]]), [])
  assert.deepEqual(ev.stats(), {
    lines: 8,
    samples: 1,
    malformed: 6,
    notRoute: 0,
    unknownCluster: 1,
    unknownService: 0,
    late: 0,
  })
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
