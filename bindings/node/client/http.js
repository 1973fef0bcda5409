'use strict'
// Http(): promises of response bodies over node's http/https, as the original client's http.js.

const fs = require('fs')
const http = require('http')
const https = require('https')
const Log = require('./log')
const { redactHeaders } = require('./redact')

const logger = Log()
// Numbers the requests in the log lines of this process, as `[i]`.
let counter = 0

/** Certificates are checked unless $VAMP_TLS_CHECK says no (`false`, `no`, `0`, any case). */
function tlsCheck() {
  const word = String(process.env.VAMP_TLS_CHECK || '')
    .trim()
    .toLowerCase()
  return !(word === 'false' || word === 'no' || word === '0')
}

/**
 * The headers to send: node chunks a body by itself only for methods other than GET, HEAD,
 * DELETE, OPTIONS and TRACE, so a body with no framing header of its own gets
 * `Transfer-Encoding: chunked` here (a DELETE with a body would otherwise go out unframed).
 */
function framed(headers, data) {
  if (!data) return headers
  const names = Object.keys(headers).map((name) => name.toLowerCase())
  if (names.includes('content-length') || names.includes('transfer-encoding')) return headers
  return Object.assign({}, headers, { 'Transfer-Encoding': 'chunked' })
}

/**
 * Sends one request. Resolves with the body text on a 2xx status; rejects with
 * `Error('[<status>]: <body>')` on any other status (redirects are not followed) and with the
 * socket's error when the connection fails. A truthy `data` is written without a
 * `Content-Length`, so the body goes out chunked. There is no timeout.
 */
function request(url, options, data) {
  const id = ++counter
  return new Promise((resolve, reject) => {
    const given = Object.assign({}, options)
    const method = given.method || 'GET'
    const headers = framed(given.headers || {}, data)
    const target = new URL(url)
    const secure = target.protocol === 'https:'
    const params = Object.assign(
      {
        protocol: target.protocol,
        hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: target.port || (secure ? 443 : 80),
        path: target.pathname + target.search,
      },
      given,
      { method, headers },
    )
    if (target.username && params.auth === undefined) {
      params.auth = decodeURIComponent(target.username) + ':' + decodeURIComponent(target.password)
    }
    if (secure) {
      if (params.rejectUnauthorized === undefined) params.rejectUnauthorized = tlsCheck()
      if (params.ca === undefined && process.env.VAMP_CA) params.ca = fs.readFileSync(process.env.VAMP_CA)
    }
    const shown = Object.assign({}, params, { headers: redactHeaders(headers) })
    delete shown.ca
    delete shown.auth
    logger.log('HTTP REQUEST [' + id + '] ' + JSON.stringify(shown))

    const req = (secure ? https : http).request(params, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        logger.log('HTTP RESPONSE [' + id + '] ' + res.statusCode)
        if (res.statusCode >= 200 && res.statusCode < 300) resolve(body)
        else reject(new Error('[' + res.statusCode + ']: ' + body))
      })
    })
    req.on('error', reject)
    if (data) {
      logger.log('HTTP REQUEST DATA [' + id + '] ' + data)
      req.write(data)
    }
    req.end()
  })
}

/** Returns `{request, get}`; works with and without `new`. */
function Http() {
  return {
    request,
    /** `request` with the method set to GET. */
    get: (url, options) => request(url, Object.assign({}, options, { method: 'GET' })),
  }
}

module.exports = Http
