// Type declarations for the `vamp` package (Node.js bindings of Vamp).

/** Plain JSON data in the canonical form of canonical-json.md. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** One error or warning, as `check` returns it. */
export interface Diagnostic {
  code: string
  severity: 'error' | 'warning'
  message: string
  line: number | null
  column: number | null
  path: string
  help: string | null
}

/** An error from Vamp, with a stable `code` and the 1-based `line`/`column` of the offending node. */
export class VampError extends Error {
  readonly name: 'VampError'
  readonly code: string
  readonly line: number | null
  readonly column: number | null
  readonly path: string
  readonly help: string | null
  /** Every error found, this one first. */
  readonly errors: Diagnostic[]
}

/** An HTTP request; every key is optional. */
export interface Request {
  method?: string | null
  host?: string | null
  path?: string | null
  /** Also accepted as `client_ip`. */
  clientIp?: string | null
  client_ip?: string | null
  headers?: Record<string, string> | null
  cookies?: Record<string, string> | null
}

export type Source = string | Buffer | Uint8Array

export interface ReadOptions {
  /** Reads documents without `kind:` as this kind (`blueprint`, `breeds`, ...). */
  kind?: string
}

/** Reads every document of a YAML stream to its canonical object; throws the first error. */
export function read(source: Source, options?: ReadOptions): { [key: string]: Json }[]
/** Every diagnostic (errors and warnings); empty when valid; never throws for an invalid document. */
export function check(source: Source, options?: ReadOptions): Diagnostic[]
/** Exactly what `vamp canonical KIND FILE` prints: an object, or an array for several documents. */
export function canonical(kind: string, source: Source): { [key: string]: Json } | { [key: string]: Json }[]
/** Every document written back as DSL YAML (separated by `---`) that reads back to the same documents. */
export function toYaml(source: Source, options?: ReadOptions): string
/** The deployments of the blueprints, resolved against the directory store (a folder of YAML artifacts) at `store`. */
export function resolve(source: Source, store: string): { [key: string]: Json } | { [key: string]: Json }[]
/** A condition's syntax tree (`{op: 'and', args: [...]}`, ...). */
export function condition(expression: string): { [key: string]: Json }
/** Whether the request matches the condition. */
export function matches(expression: string, request: Request): boolean

export interface Instance {
  name: string
  host?: string
  port?: number
  weight?: number
}

/** Route path -> instances. */
export type Targets = Record<string, Instance[]>

export interface Decision {
  gateway: string
  /** null when no route takes the request. */
  route: string | null
  reason: 'sticky' | 'condition' | 'weight' | null
  instance: { name: string; host: string | null; port: number | null } | null
  setCookies: { name: string; value: string }[]
  rewrite: string | null
}

export interface RouterOptions {
  /** The gateway to compile when the text holds several. */
  gateway?: string
  targets?: Targets
  /** Seed of the random draws (default: random). */
  seed?: number
}

/** A gateway compiled for routing decisions. */
export class Router {
  constructor(source: Source, options?: RouterOptions)
  readonly name: string
  readonly routes: string[]
  /** With `key` (a user id) the decision is a stable function of the key. */
  decide(request: Request, options?: { key?: string }): Decision
  /** The chosen route of each request (null where no route takes it). */
  decideMany(requests: Request[]): (string | null)[]
  /** Exact and sampled split of a traffic mix (requests and/or `{share, request}` entries). */
  simulate(traffic: (Request | { share: number; request: Request })[] | { requests: unknown[] }, options?: { samples?: number; seed?: number }): { [key: string]: Json }
}

export interface HaproxyOptions {
  targets?: Targets
  /** Default `127.0.0.1`. */
  bindAddress?: string
  /** Default 80. */
  virtualHostsPort?: number
  /** Default true. */
  healthChecks?: boolean
}

/** A complete haproxy.cfg for every gateway of the YAML text. */
export function haproxy(source: Source, options?: HaproxyOptions): string

/** An SLA event. */
export interface SlaEvent {
  /** Unix seconds (an integer when whole). */
  timestamp: number
  cluster: string
  event: 'escalate' | 'deescalate'
}

/** A scale change to apply. */
export interface ScaleAction {
  timestamp: number
  action: 'scale_instances' | 'scale_cpu' | 'scale_memory'
  cluster: string
  service: string
  from: number
  to: number
}

/**
 * One line of `vamp sla evaluate --format json`: an event, a scale action, a
 * notice (`{timestamp, notice, ...}`: `cannot_scale_further`,
 * `unknown_cluster`, `no_service`, `unknown_scale`, `invalid_step`,
 * `unsupported_escalation`) or a generic handler's action
 * (`{timestamp, action, cluster, event, detail}`).
 */
export type SlaOutput = SlaEvent | ScaleAction | { timestamp: number; [key: string]: Json }

/** A plain sample (`service` optional). */
export interface Sample {
  /** Unix seconds or RFC 3339. */
  timestamp: number | string
  cluster: string
  service?: string
  /** Milliseconds. */
  response_time: number
  status: number
}

export interface SlaStats {
  lines: number
  samples: number
  malformed: number
  notRoute: number
  unknownCluster: number
  unknownService: number
  late: number
}

/**
 * The SLA checks and escalations of every cluster of a blueprint. Feed it
 * samples in time order; it returns the events and scale actions they cause,
 * exactly as `vamp sla evaluate --format json` prints them. Throws a
 * `VampError` for a blueprint that does not read (with its code and
 * position), with code `no_blueprint` or `invalid_sla`.
 */
export class SlaEvaluator {
  constructor(blueprintText: Source, options?: { periodSeconds?: number })
  /** An array of log lines (HAProxy JSON records or plain samples), or one chunk of text; blank lines are skipped, malformed ones counted. */
  feedLines(lines: Source | Source[]): SlaOutput[]
  /** Plain sample objects; anything else is counted as malformed. */
  feedSamples(samples: (Sample | object)[]): SlaOutput[]
  /** Ends the stream: runs the evaluation due after the last sample. */
  finish(): SlaOutput[]
  stats(): SlaStats
  /** Clusters whose SLA is not monitored, and why. */
  readonly notices: { cluster: string; message: string }[]
}
