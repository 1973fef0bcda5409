'use strict'
// Shared by the tests: a recording test HTTP server, stream collection, log capture, and
// running a workflow-like script in a child node that resolves `vamp-node-client` by NODE_PATH.

const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const CLIENT = path.resolve(__dirname, '..')

// The client reads these at construction; the tests start from none of them.
for (const name of Object.keys(process.env)) {
  if (name.startsWith('VAMP_')) delete process.env[name]
}

// The client logs to stdout; the tests keep the lines here instead, to assert on them.
const logs = []
console.log = (...args) => logs.push(args.join(' '))

/**
 * Starts a loopback server that records every request (method, path, query, headers, body) and
 * answers with `handler(request)`: `{status, body, headers}`, where a non-string body is sent as JSON.
 */
async function serve(handler) {
  const requests = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url, 'http://localhost')
      const request = {
        method: req.method,
        url: req.url,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      requests.push(request)
      const answer = (handler && handler(request)) || { status: 404, body: 'no route' }
      const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
      res.writeHead(answer.status || 200, answer.headers || { 'Content-Type': 'application/json' })
      res.end(body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: 'http://127.0.0.1:' + server.address().port,
    requests,
    /** Resolves once `n` requests have arrived (10 s at most). */
    async received(n) {
      const end = Date.now() + 10000
      while (requests.length < n) {
        if (Date.now() > end) throw new Error('expected ' + n + ' requests, got ' + requests.length)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      return requests
    },
    close() {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

// Folders made by `tempFolder`, removed when the test file's process exits.
const folders = []
process.on('exit', () => {
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true })
})

/** A new empty folder under the system's temporary folder, removed at exit. */
function tempFolder(prefix) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  folders.push(folder)
  return folder
}

/** A port on which nothing listens (taken, then released). */
async function closedPort() {
  const server = http.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Every value of a highland stream, or its first error as a rejection. */
function collect(stream) {
  return stream.collect().toPromise(Promise)
}

/** A folder to use as NODE_PATH, holding `vamp-node-client` and `highland` as the runtime will. */
function modulesFolder() {
  const folder = tempFolder('vamp-client-modules-')
  fs.symlinkSync(CLIENT, path.join(folder, 'vamp-node-client'))
  fs.symlinkSync(path.join(CLIENT, 'node_modules', 'highland'), path.join(folder, 'highland'))
  return folder
}

/**
 * Runs `source` as a workflow script in a child node (from a folder outside the client) with
 * `env` added, and resolves with `{code, signal, stdout, stderr}` when it exits (10 s at most).
 */
function runScript(source, env, modules) {
  const folder = tempFolder('vamp-workflow-')
  fs.writeFileSync(path.join(folder, 'workflow.js'), source)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['workflow.js'], {
      cwd: folder,
      env: Object.assign({ PATH: process.env.PATH, NODE_PATH: modules || modulesFolder() }, env),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (data) => (stdout += data))
    child.stderr.on('data', (data) => (stderr += data))
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

module.exports = { CLIENT, logs, serve, tempFolder, closedPort, collect, modulesFolder, runScript }
