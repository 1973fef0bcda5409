'use strict'
// Vamp's engine for Node.js. The native addon (vamp.node, built from src/ by
// build.js) returns JSON text; this file parses it into plain objects and
// rethrows errors as VampError objects with `code`, `line` and `column`.

let native
try {
  native = require('./vamp.node')
} catch (e) {
  throw new Error(
    `vamp: the native addon is not built (${e.message}); run \`npm run build\` (or \`npm install\`) in ${__dirname}`,
  )
}

class VampError extends Error {
  constructor(diagnostic, errors) {
    super(diagnostic.message)
    this.name = 'VampError'
    /** Stable snake_case code (`unexpected_type`, `parser`, ...). */
    this.code = diagnostic.code
    /** 1-based line of the offending node, or null. */
    this.line = diagnostic.line
    /** 1-based column of the offending node, or null. */
    this.column = diagnostic.column
    /** Dotted key path of the offending node. */
    this.path = diagnostic.path
    /** An optional hint, or null. */
    this.help = diagnostic.help
    /** Every error found, this one first. */
    this.errors = errors || [diagnostic]
  }
}

function call(fn, ...args) {
  try {
    return fn(...args)
  } catch (e) {
    if (typeof e.message === 'string' && e.message.startsWith('{"vampErrors":')) {
      const errors = JSON.parse(e.message).vampErrors
      const err = new VampError(errors[0], errors)
      Error.captureStackTrace(err, call)
      throw err
    }
    throw e
  }
}

function text(value) {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new TypeError('expected the YAML text as a string or a Buffer')
}

function kindArg(kind) {
  return kind === undefined || kind === null ? undefined : String(kind)
}

/** Reads every document of a YAML stream to its canonical object. */
function read(source, options = {}) {
  return JSON.parse(call(native.readJson, text(source), kindArg(options.kind)))
}

/** Every diagnostic (errors and warnings); never throws for an invalid document. */
function check(source, options = {}) {
  return JSON.parse(call(native.checkJson, text(source), kindArg(options.kind)))
}

/** Exactly what `vamp canonical KIND FILE` prints: an object, or an array for several documents. */
function canonical(kind, source) {
  return JSON.parse(call(native.canonicalJson, String(kind), text(source)))
}

/** Every document written back as DSL YAML (separated by `---`) that reads back to the same documents. */
function toYaml(source, options = {}) {
  return call(native.toYaml, text(source), kindArg(options.kind))
}

/** The deployments of the blueprints, resolved against the directory store at `store`. */
function resolve(source, store) {
  return JSON.parse(call(native.resolveJson, text(source), String(store)))
}

/** A condition's syntax tree, as `vamp condition EXPR` prints it. */
function condition(expression) {
  return JSON.parse(call(native.conditionJson, String(expression)))
}

/** Whether a request ({method, host, path, clientIp|client_ip, headers, cookies}) matches the condition. */
function matches(expression, request) {
  return call(native.matchesJson, String(expression), requestJson(request))
}

function requestJson(request) {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    return JSON.stringify(request === undefined ? null : request)
  }
  if ('clientIp' in request) {
    const { clientIp, ...rest } = request
    return JSON.stringify({ ...rest, client_ip: clientIp })
  }
  return JSON.stringify(request)
}

function optionalJson(value) {
  return value === undefined || value === null ? undefined : JSON.stringify(value)
}

/** A gateway compiled for routing decisions. */
class Router {
  /**
   * @param {string|Buffer} source YAML holding the gateway (and the conditions and rewrites it refers to)
   * @param {{gateway?: string, targets?: object, seed?: number}} [options]
   */
  constructor(source, options = {}) {
    this._native = call(
      (...a) => new native.NativeRouter(...a),
      text(source),
      options.gateway === undefined || options.gateway === null ? undefined : String(options.gateway),
      optionalJson(options.targets),
      options.seed === undefined || options.seed === null ? undefined : Number(options.seed),
    )
  }

  /** The gateway's name. */
  get name() {
    return this._native.name
  }

  /** The route paths, in written order. */
  get routes() {
    return this._native.routes
  }

  /** Where one request goes: {gateway, route, reason, instance, setCookies, rewrite}. */
  decide(request, options = {}) {
    const key = options.key === undefined || options.key === null ? undefined : String(options.key)
    return JSON.parse(call((r, k) => this._native.decideJson(r, k), requestJson(request), key))
  }

  /** The chosen route of each request (null where no route takes it). */
  decideMany(requests) {
    if (!Array.isArray(requests)) throw new TypeError('decideMany expects an array of requests')
    return call((r) => this._native.decideManyJson(r), JSON.stringify(requests.map((q) => JSON.parse(requestJson(q)))))
  }

  /** Exact and sampled split of a traffic mix over routes and instances. */
  simulate(traffic, options = {}) {
    return JSON.parse(
      call((t, n, s) => this._native.simulateJson(t, n, s), JSON.stringify(traffic), options.samples, options.seed),
    )
  }
}

/** A complete haproxy.cfg for every gateway of the YAML text. */
function haproxy(source, options = {}) {
  return call(
    native.haproxy,
    text(source),
    optionalJson(options.targets),
    options.bindAddress,
    options.virtualHostsPort,
    options.healthChecks,
  )
}

/**
 * The SLA checks and escalations of every cluster of a blueprint. Feed it
 * samples in time order; it returns the events and scale actions they cause,
 * exactly as `vamp sla evaluate --format json` prints them (one object per
 * printed line).
 */
class SlaEvaluator {
  /**
   * @param {string|Buffer} blueprintText YAML holding the blueprint
   * @param {{periodSeconds?: number}} [options] seconds between evaluations (default 1)
   */
  constructor(blueprintText, options = {}) {
    const period = options.periodSeconds === undefined || options.periodSeconds === null ? undefined : Number(options.periodSeconds)
    this._native = call((...a) => new native.NativeSlaEvaluator(...a), text(blueprintText), period)
  }

  /** Log lines (HAProxy JSON records or plain samples): an array of lines, or one chunk of text. */
  feedLines(lines) {
    const list = Array.isArray(lines) ? lines.map(text) : [text(lines)]
    return JSON.parse(call((l) => this._native.feedLinesJson(l), list))
  }

  /** Plain sample objects ({timestamp, cluster, service?, response_time, status}); others count as malformed. */
  feedSamples(samples) {
    if (!Array.isArray(samples)) throw new TypeError('feedSamples expects an array of samples')
    return JSON.parse(call((s) => this._native.feedSamplesJson(s), JSON.stringify(samples)))
  }

  /** Ends the stream: runs the evaluation due after the last sample. */
  finish() {
    return JSON.parse(call(() => this._native.finishJson()))
  }

  /** Counters of what went in: {lines, samples, malformed, notRoute, unknownCluster, unknownService, late}. */
  stats() {
    return JSON.parse(call(() => this._native.statsJson()))
  }

  /** Clusters whose SLA is not monitored, and why: [{cluster, message}]. */
  get notices() {
    return JSON.parse(call(() => this._native.noticesJson()))
  }
}

module.exports = { VampError, read, check, canonical, toYaml, resolve, condition, matches, Router, haproxy, SlaEvaluator }
