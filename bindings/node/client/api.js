'use strict'
// Api(opts): the Vamp REST API as highland streams, as the original client's api.js.
// Reads are lazy and paged; writes start at the call (see spec workflows.md §3.2).

const _ = require('highland')
const Http = require('./http')
const Log = require('./log')
const Util = require('./util')

const { redactHeaders } = require('./redact')

/** `path` with exactly one leading `/` (the callers may write either form). */
function slash(path) {
  const text = String(path)
  return text.startsWith('/') ? text : '/' + text
}

/** Builds the options as the original did, including its quirks (see the d.ts). */
function settings(opts) {
  const util = Util()
  const given = opts || {}
  const options = {
    // `url` is this project's alias of the original's `host` (`new Api({url})`).
    host: given.host || given.url || process.env.VAMP_URL || 'http://127.0.0.1',
    path: given.path || '/api/v1',
    token: given.token || process.env.VAMP_API_TOKEN || '',
    namespace: given.namespace || process.env.VAMP_NAMESPACE || '',
    // `||` on purpose, as the original: `cache: false` falls through to the variable and then
    // to true; only VAMP_API_CACHE or the string 'false' turns the cache off.
    cache: util.boolean(given.cache || process.env.VAMP_API_CACHE || true),
  }
  options.headers = given.headers || {
    Authorization: options.token ? 'token ' + options.token : 'token',
    Accept: 'application/json',
    'Content-Type': 'application/json',
  }
  return options
}

/** Returns the API client; works with and without `new`. */
function Api(opts) {
  const logger = Log()
  const http = Http()
  const options = settings(opts)
  const shown = Object.assign({}, options, {
    token: options.token ? '***' : '',
    headers: redactHeaders(options.headers),
  })
  logger.log('API options: ' + JSON.stringify(shown))

  const url = options.host + (options.namespace ? '/' + encodeURIComponent(options.namespace) : '') + options.path
  // path -> the last value a `get` of that path emitted.
  const cache = new Map()

  function remember(key, value) {
    if (options.cache) cache.set(key, value)
  }

  function get(path, force, qs) {
    const key = slash(path)
    let page = 1
    return _((push, next) => {
      if (page === 1 && options.cache && !force && cache.has(key)) {
        push(null, cache.get(key))
        push(null, _.nil)
        return
      }
      const target = url + key + '?page=' + page + (qs ? '&' + qs : '')
      http.get(target, { headers: options.headers }).then(
        (text) => {
          let value
          try {
            value = JSON.parse(text)
          } catch (e) {
            logger.log('API GET ' + key + ' failed: the answer is not JSON: ' + e.message)
            push(null, _.nil)
            return
          }
          if (!Array.isArray(value)) {
            remember(key, value)
            push(null, value)
            push(null, _.nil)
          } else if (value.length === 0) {
            push(null, _.nil)
          } else {
            for (const item of value) {
              remember(key, item)
              push(null, item)
            }
            page += 1
            next()
          }
        },
        (error) => {
          logger.log('API GET ' + key + ' failed: ' + error.message)
          push(null, _.nil)
        },
      )
    })
  }

  // Starts the request now. The rejection handler logs the failure, so that a failing request
  // whose stream nobody consumes does not end the process; a consumer still gets the error.
  function send(method, path, body, qs, label) {
    const key = slash(path)
    cache.delete(key)
    const data = body === undefined ? undefined : JSON.stringify(body)
    logger.log(label || 'API ' + method + ' ' + key + (data === undefined ? '' : ' ' + data))
    const promise = http.request(url + key + (qs ? '?' + qs : ''), { method, headers: options.headers }, data)
    promise.catch((error) => logger.log('API ' + method + ' ' + key + ' failed: ' + error.message))
    return _(promise)
  }

  return {
    url,
    get,
    put: (path, body, qs) => send('PUT', path, body, qs),
    post: (path, body, qs) => send('POST', path, body, qs),
    delete: (path, body, qs) => send('DELETE', path, body, qs),
    event(tags, value, type) {
      const event = { tags, value, type: type || 'event' }
      // The original logs this POST as a PUT; scripts' logs are kept that way.
      return send('POST', '/events', event, undefined, 'API PUT /events ' + JSON.stringify(event))
    },
    info: (force) => get('info', force),
    config: (force) => get('config', force, 'flatten=true'),
    gateways: (force) => get('gateways', force),
    deployments: (force) => get('deployments', force),
    namify(map) {
      return _(
        Object.keys(map).map((name) => {
          map[name].name = name
          return map[name]
        }),
      )
    },
  }
}

module.exports = Api
