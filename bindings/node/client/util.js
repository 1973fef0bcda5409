'use strict'
// Util(): small helpers shared by the client and by workflow scripts.

/**
 * Reads a flag the way the original client did: true only for `true`, `yes` or `1`
 * (surrounding spaces and case ignored); anything else, `undefined` included, is false.
 */
function boolean(value) {
  if (value === undefined || value === null) return false
  const word = String(value).trim().toLowerCase()
  return word === 'true' || word === 'yes' || word === '1'
}

/** Returns `{boolean}`; works with and without `new`. */
function Util() {
  return { boolean }
}

module.exports = Util
