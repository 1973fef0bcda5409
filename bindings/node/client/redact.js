'use strict'
// Hides secrets in the client's log lines. Internal: not exported by index.js.

/**
 * A copy of `headers` whose `Authorization` value keeps its scheme word but hides the secret
 * (`token abc` becomes `token ***`), for logging.
 */
function redactHeaders(headers) {
  if (!headers || typeof headers !== 'object') return headers
  const copy = {}
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'authorization' && typeof value === 'string') {
      const space = value.indexOf(' ')
      copy[name] = space < 0 ? value : value.slice(0, space) + ' ***'
    } else {
      copy[name] = value
    }
  }
  return copy
}

module.exports = { redactHeaders }
