'use strict'
// Vamp's engine for Node.js. The native addon (vamp.node, built from src/)
// holds every function and class; this file only rethrows its errors as
// VampError subclasses carrying `code`, `line` and `column`, and argument
// type errors as TypeError.

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
    this.name = new.target.name
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
class ParseError extends VampError {}
class ValidationError extends VampError {}
class RoutingError extends VampError {}
const CLASSES = { VampError, ParseError, ValidationError, RoutingError }

// The native side throws `{"vampErrors": [...], "class": NAME}` as the
// message of its errors, and napi an `InvalidArg` or `...Expected` error
// for an argument of the wrong type.
function rethrow(e, from) {
  let err = e
  if (e && typeof e.message === 'string' && e.message.startsWith('{"vampErrors":')) {
    const { vampErrors, class: name } = JSON.parse(e.message)
    err = new (CLASSES[name] || VampError)(vampErrors[0], vampErrors)
  } else if (e && /^(InvalidArg|\w+Expected)$/.test(e.code) && !(e instanceof TypeError)) {
    err = new TypeError(e.message)
  } else {
    throw e
  }
  Error.captureStackTrace(err, from)
  throw err
}

function wrap(fn) {
  const wrapped = function (...args) {
    try {
      return fn.apply(this, args)
    } catch (e) {
      rethrow(e, wrapped)
    }
  }
  Object.defineProperty(wrapped, 'name', { value: fn.name })
  return wrapped
}

// A native class whose constructor, methods and getters rethrow as above.
function wrapClass(Native) {
  for (const key of Object.getOwnPropertyNames(Native.prototype)) {
    if (key === 'constructor') continue
    const d = Object.getOwnPropertyDescriptor(Native.prototype, key)
    if (typeof d.value === 'function') d.value = wrap(d.value)
    if (d.get) d.get = wrap(d.get)
    Object.defineProperty(Native.prototype, key, d)
  }
  const construct = (target, args, newTarget) => {
    try {
      return Reflect.construct(target, args, newTarget)
    } catch (e) {
      rethrow(e, construct)
    }
  }
  return new Proxy(Native, { construct })
}

const api = { ...CLASSES }
for (const [name, value] of Object.entries(native)) {
  const isClass = typeof value === 'function' && value.prototype && Object.getOwnPropertyNames(value.prototype).length > 1
  api[name] = typeof value !== 'function' ? value : isClass ? wrapClass(value) : wrap(value)
}
// The workflow client (`vamp-node-client`), also `require('vamp/client')`;
// loaded on first use (it needs only highland, not the native addon).
Object.defineProperty(api, 'client', { enumerable: true, get: () => require('./client') })
module.exports = api
