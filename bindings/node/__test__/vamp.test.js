'use strict'
// Every function of the `vamp` package, with its error cases (codes and
// positions), on the documents of examples/.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')
const vamp = require('..')

const { EXAMPLE, canary, vampCli, throwsVamp } = require('./support')

const CHROME_ANDROID = 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36'
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'

/** 1-based line and column of `needle` (plus `offset`) in `text`. */
function position(text, needle, offset = 0) {
  const i = text.indexOf(needle) + offset
  assert.ok(i >= offset, `${needle} not found`)
  const before = text.slice(0, i)
  return [before.split('\n').length, i - before.lastIndexOf('\n')]
}

/** The example's `sava/webport` gateway as a stand-alone gateway document. */
function gatewayOfExample(port = 9050) {
  const gw = vamp.read(canary)[0].clusters.sava.gateways.webport
  const lines = ['kind: gateway', 'name: sava', `port: ${port}/http`, `sticky: ${gw.sticky || 'none'}`, 'routes:']
  for (const [name, r] of Object.entries(gw.routes)) {
    lines.push(`  ${name}:`)
    if (r.weight !== null) lines.push(`    weight: ${r.weight}%`)
    if (r.condition) lines.push(`    condition: ${r.condition.definition}`)
    if (r.condition_strength !== null) lines.push(`    condition_strength: ${r.condition_strength}%`)
  }
  return lines.join('\n') + '\n'
}

test('read: the example to canonical plain objects', () => {
  const docs = vamp.read(canary)
  assert.equal(docs.length, 1)
  const bp = docs[0]
  assert.deepEqual(Object.keys(bp), ['kind', 'name', 'metadata', 'gateways', 'clusters', 'environment_variables', 'dialects'])
  const routes = bp.clusters.sava.gateways.webport.routes
  assert.equal(routes['sava:1.1.0'].weight, 10)
  assert.deepEqual(routes['sava:1.1.0'].condition, { definition: 'user-agent == Chrome and user-agent == Android' })
  assert.deepEqual(bp.clusters.sava.services[0].scale, { cpu: 0.5, memory: 512, instances: 2 })
  assert.equal(bp.gateways['9050'].port.number, 9050)
  assert.deepEqual(vamp.read(Buffer.from(canary)), docs)
  assert.deepEqual(vamp.read(canary.replace('kind: blueprint\n', ''), { kind: 'blueprints' }), docs)
})

test('read: errors carry code, line and column', () => {
  const bad = canary.replace('weight: 10%', 'weight: 10')
  const e = throwsVamp(() => vamp.read(bad), () => {})
  assert.equal(e.code, 'unexpected_type')
  assert.deepEqual([e.line, e.column], position(bad, 'weight: 10\n', 'weight: '.length))
  assert.match(e.path, /weight$/)
  assert.deepEqual(e.errors.map((d) => d.code), ['unexpected_type', 'gateway_route_weight'])
  assert.deepEqual([e.errors[1].line, e.errors[1].column], position(bad, 'routes:'))
  throwsVamp(() => vamp.read('kind: blueprint\nname: [a\n'), (e) => {
    assert.equal(e.code, 'yaml_parsing')
    assert.equal(typeof e.line, 'number')
  })
  throwsVamp(() => vamp.read('name: x', { kind: 'spaceship' }), (e) => {
    assert.equal(e.code, 'inconsistent_artifact_kind')
    assert.equal(e.line, null)
  })
  assert.throws(() => vamp.read(42), TypeError)
})

test('check: every diagnostic with positions, never throws', () => {
  assert.deepEqual(vamp.check(canary), [])
  const bad = canary.replace('sticky: route', 'sticky: sometimes').replace('      memory: 1GB', '      memory: 1GB\n      memory: 2GB')
  const diags = vamp.check(bad)
  const sticky = diags.find((d) => d.code === 'illegal_gateway_sticky_value')
  assert.equal(sticky.severity, 'error')
  assert.deepEqual([sticky.line, sticky.column], position(bad, 'sometimes'))
  const dup = diags.find((d) => d.code === 'duplicate_key')
  assert.equal(dup.severity, 'warning')
  assert.deepEqual([dup.line, dup.column], position(bad, 'memory: 2GB'))
  assert.deepEqual(Object.keys(sticky).sort(), ['code', 'column', 'help', 'line', 'message', 'path', 'severity'])
  assert.deepEqual(vamp.check('a: [\n').map((d) => d.code), ['yaml_parsing'])
})

test('canonical: one object, several a list, errors like the CLI', () => {
  const one = vamp.canonical('blueprint', canary)
  assert.deepEqual(one, vamp.read(canary)[0])
  const two = vamp.canonical('blueprints', canary + '---\n' + canary.replace('name: sava-canary', 'name: other'))
  assert.deepEqual(two.map((d) => d.name), ['sava-canary', 'other'])
  throwsVamp(() => vamp.canonical('breed', canary), (e) => {
    assert.equal(e.code, 'inconsistent_artifact_kind')
    assert.deepEqual([e.line, e.column], position(canary, 'blueprint'))
  })
  throwsVamp(() => vamp.canonical('scale', 'name: small\ncpu: 0.5\nmemory: 512\n'), (e) => {
    assert.deepEqual([e.code, e.line, e.column], ['unexpected_type', 3, 9])
  })
  throwsVamp(() => vamp.canonical('spaceship', canary), (e) => assert.equal(e.code, 'inconsistent_artifact_kind'))
})

test('canonical: the same as `vamp canonical` prints', (t) => {
  const cli = vampCli()
  if (!cli) return t.skip('the vamp command is not built (cargo build -p vamp-cli)')
  const printed = JSON.parse(execFileSync(cli, ['canonical', 'blueprint', EXAMPLE], { encoding: 'utf8' }))
  assert.deepEqual(vamp.canonical('blueprint', canary), printed)
  const bad = canary.replace('weight: 10%', 'weight: 10')
  const out = JSON.parse(spawnSync(cli, ['canonical', 'blueprint', '-'], { input: bad, encoding: 'utf8' }).stdout)
  const e = throwsVamp(() => vamp.canonical('blueprint', bad), () => {})
  assert.deepEqual({ code: e.code, message: e.message, line: e.line, column: e.column }, out.error)
  assert.deepEqual(e.errors.map(({ code, message, line, column }) => ({ code, message, line, column })), out.errors)
})

test('condition: syntax trees and positioned parse errors', () => {
  assert.deepEqual(vamp.condition('user-agent == Chrome and user-agent == Android'), {
    op: 'and',
    args: [{ op: 'user_agent', value: 'Chrome' }, { op: 'user_agent', value: 'Android' }],
  })
  assert.deepEqual(vamp.condition('< hdr_sub(X) y >'), { op: 'acl', value: 'hdr_sub(X) y' })
  const expr = 'user-agent == Chrome and ('
  throwsVamp(() => vamp.condition(expr), (e) => {
    assert.equal(e.code, 'parser')
    assert.equal(e.line, 1)
    assert.ok(e.column >= 1 && e.column <= expr.length + 1)
  })
})

test('matches: requests against conditions, and its errors', () => {
  const expr = 'user-agent == Chrome and user-agent == Android'
  assert.equal(vamp.matches(expr, { headers: { 'User-Agent': CHROME_ANDROID } }), true)
  assert.equal(vamp.matches(expr, { headers: { 'user-agent': FIREFOX } }), false)
  assert.equal(vamp.matches('host == example.com', { headers: { Host: 'example.com' } }), true)
  assert.equal(vamp.matches('< path_beg /api >', { path: '/api/v1' }), true)
  assert.equal(vamp.matches('< src 10.0.0.0/8 >'.replace('src 10.0.0.0/8', 'path /x'), { path: '/x', clientIp: '10.1.1.1' }), true)
  throwsVamp(() => vamp.matches('host ==', {}), (e) => assert.deepEqual([e.code, e.line], ['parser', 1]))
  throwsVamp(() => vamp.matches('< ssl_fc >', {}), (e) => assert.equal(e.code, 'unsupported_acl'))
  throwsVamp(() => vamp.matches('host == a', { headers: { 'X-Id': 1 } }), (e) => {
    assert.deepEqual([e.code, e.path], ['unexpected_type', 'headers.X-Id'])
  })
  throwsVamp(() => vamp.matches('host == a', { header: {} }), (e) => assert.equal(e.code, 'unexpected_element'))
  throwsVamp(() => vamp.matches('host == a', ['x']), (e) => assert.equal(e.code, 'unexpected_type'))
})

test('Router: compiles the example gateway and decides', () => {
  const r = new vamp.Router(gatewayOfExample(), { seed: 1 })
  assert.equal(r.name, 'sava')
  assert.deepEqual(r.routes, ['sava:1.0.0', 'sava:1.1.0'])
  const d = r.decide({ headers: { 'User-Agent': CHROME_ANDROID } })
  assert.deepEqual([d.route, d.reason, d.gateway], ['sava:1.1.0', 'condition', 'sava'])
  const [cookie] = d.setCookies
  const again = r.decide({ headers: { 'User-Agent': FIREFOX }, cookies: { [cookie.name]: cookie.value } })
  assert.deepEqual([again.route, again.reason, again.setCookies], ['sava:1.1.0', 'sticky', []])
  const keyed = new Set(Array.from({ length: 20 }, () => r.decide({}, { key: 'user-42' }).route))
  assert.equal(keyed.size, 1)
})

test('Router: decideMany is seeded and agrees with decide', () => {
  const gw = gatewayOfExample()
  const reqs = Array.from({ length: 3000 }, (_, i) => ({ headers: { 'User-Agent': i % 3 ? FIREFOX : CHROME_ANDROID } }))
  const routes = new vamp.Router(gw, { seed: 3 }).decideMany(reqs)
  const one = new vamp.Router(gw, { seed: 3 })
  assert.deepEqual(routes, reqs.map((q) => one.decide(q).route))
  const share = routes.filter((x) => x === 'sava:1.1.0').length / routes.length
  assert.ok(share > 0.36 && share < 0.44, `share ${share}`)
  throwsVamp(() => one.decideMany([{}, { cookies: { a: 1 } }]), (e) => assert.equal(e.code, 'unexpected_type'))
})

test('Router: targets, simulate and compile errors', () => {
  const gw = gatewayOfExample()
  const targets = { 'sava:1.1.0': [{ name: 'new-1', host: '10.0.0.2', port: 31002 }] }
  const d = new vamp.Router(gw, { targets, seed: 1 }).decide({ headers: { 'User-Agent': CHROME_ANDROID } })
  assert.deepEqual(d.instance, { name: 'new-1', host: '10.0.0.2', port: 31002 })
  throwsVamp(() => new vamp.Router(gw, { targets: [] }), (e) => assert.equal(e.code, 'unexpected_type'))

  const report = new vamp.Router(gw, { seed: 1 }).simulate(
    [{ share: 3, request: { headers: { 'User-Agent': FIREFOX } } }, { headers: { 'User-Agent': CHROME_ANDROID } }],
    { samples: 20000, seed: 5 },
  )
  assert.equal(report.samples, 20000)
  assert.ok(Math.abs(report.routes['sava:1.1.0'].exact - 0.325) < 1e-9)
  throwsVamp(() => new vamp.Router(gw).simulate({ nope: 1 }), (e) => assert.equal(e.code, 'unexpected_type'))

  throwsVamp(() => new vamp.Router(gw.replace('weight: 10%', 'weight: 30%')), (e) => {
    assert.equal(e.code, 'gateway_route_weight')
    assert.equal(typeof e.line, 'number')
  })
  throwsVamp(() => new vamp.Router(gw.replace('user-agent == Android', 'user-agent == Android and (')), (e) => {
    assert.equal(e.code, 'parser')
  })
  const two = gw + '---\n' + gw.replace('name: sava', 'name: other')
  throwsVamp(() => new vamp.Router(two), (e) => assert.equal(e.code, 'unresolved_dependency'))
  assert.equal(new vamp.Router(two, { gateway: 'other' }).name, 'other')
})

test('haproxy: exports the gateway, with its errors', () => {
  const gw = gatewayOfExample()
  const cfg = vamp.haproxy(gw, { bindAddress: '0.0.0.0', healthChecks: false })
  assert.match(cfg, /frontend/)
  assert.match(cfg, /0\.0\.0\.0:9050/)
  throwsVamp(() => vamp.haproxy(gw.replace('port: 9050/http\n', '')), (e) => assert.equal(e.code, 'unresolved_gateway_port'))
})

test('toYaml: reads back to the same documents', () => {
  const text = vamp.toYaml(canary)
  assert.deepEqual(vamp.read(text), vamp.read(canary))
  throwsVamp(() => vamp.toYaml(canary.replace('weight: 10%', 'weight: 10')), (e) => assert.equal(e.code, 'unexpected_type'))
})

test('resolve: a blueprint against a directory store', () => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'vamp-store-'))
  try {
    const dep = vamp.resolve(canary, dir)
    assert.equal(dep.kind, 'deployment')
    assert.equal(dep.clusters.sava.services[0].status.intention, 'deploy')
    throwsVamp(() => vamp.resolve('kind: blueprint\nname: b\nclusters:\n  web: web:1.0\n', dir), (e) => {
      assert.deepEqual([e.code, e.line, e.column], ['unresolved_dependency', 4, 8])
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('errors: the classes of the Python package, with code, line and column', () => {
  const parse = throwsVamp(() => vamp.read('kind: blueprint\nname: [a\n'))
  assert.ok(parse instanceof vamp.ParseError)
  assert.equal(parse.name, 'ParseError')
  assert.ok(Object.hasOwn(parse, 'line') && Object.hasOwn(parse, 'column'))
  const invalid = throwsVamp(() => vamp.read(canary.replace('weight: 10%', 'weight: 10')))
  assert.ok(invalid instanceof vamp.ValidationError && !(invalid instanceof vamp.ParseError))
  assert.equal(invalid.name, 'ValidationError')
  const routing = throwsVamp(() => vamp.matches('< ssl_fc >', {}))
  assert.ok(routing instanceof vamp.RoutingError)
  assert.equal(routing.code, 'unsupported_acl')
  assert.ok(throwsVamp(() => vamp.condition('host ==')) instanceof vamp.ParseError)
  const gw = gatewayOfExample()
  const two = throwsVamp(() => new vamp.Router(gw + '---\n' + gw.replace('name: sava', 'name: other')))
  assert.ok(two instanceof vamp.RoutingError)
  assert.match(two.message, /choose one with the `gateway` option$/)
})

test('Router: decideMany takes one key per request, like decide', () => {
  const r = new vamp.Router(gatewayOfExample(), { seed: 1 })
  const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`)
  const requests = keys.map(() => ({ headers: { 'User-Agent': FIREFOX } }))
  const routes = r.decideMany(requests, { keys })
  assert.deepEqual(routes, keys.map((key, i) => r.decide(requests[i], { key }).route))
  assert.deepEqual(new Set(routes), new Set(r.routes))
  throwsVamp(() => r.decideMany(requests, { keys: ['a'] }), (e) => {
    assert.ok(e instanceof vamp.RoutingError)
    assert.equal(e.code, 'unexpected_type')
  })
})
