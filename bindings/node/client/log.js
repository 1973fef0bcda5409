'use strict'
// Log(): the client's logger, which writes to stdout; the server keeps a workflow's output.

/** Returns `{log}`, which prints like `console.log`; works with and without `new`. */
function Log() {
  // Looked up at each call, so that whoever replaces console.log (a test, a script) sees the lines.
  return { log: (...args) => console.log(...args) }
}

module.exports = Log
