// Type declarations for `vamp-node-client`, the client module of Vamp's JavaScript workflows.
// The streams are highland 2 streams: install `@types/highland` (an optional peer dependency)
// to type-check code that uses these declarations.

/// <reference types="node" />
/// <reference types="highland" />

import type { RequestOptions } from 'https'

/** Options of `Api`; each falls back to an environment variable, then to a default. */
export interface ApiOptions {
  /** The server, without `/api/v1`. Default `$VAMP_URL`, then `http://127.0.0.1`. */
  host?: string
  /** The same as `host` (this project's alias: `new Api({url})`). */
  url?: string
  /** Default `/api/v1`. */
  path?: string
  /** Sent as `Authorization: token <token>`. Default `$VAMP_API_TOKEN`, then none. */
  token?: string
  /** Put before `path` as `/<namespace>`, URI-encoded. Default `$VAMP_NAMESPACE`, then none. */
  namespace?: string
  /**
   * Whether `get` answers a path it has read before from memory. As in the original, a falsy
   * value falls through to `$VAMP_API_CACHE` and then to true: only the variable, or the string
   * `'false'`, turns the cache off.
   */
  cache?: boolean | string
  /** Replaces the whole default header set (`Authorization`, `Accept`, `Content-Type`). */
  headers?: Record<string, string>
}

/** The Vamp REST API as highland streams. */
export interface Api {
  /** `host` + `/<namespace>` (when set) + `path`, e.g. `http://127.0.0.1:8080/api/v1`. */
  readonly url: string
  /**
   * A lazy stream: on consumption it reads `url/path?page=1, 2, …` (`&qs` appended) until a page
   * is `[]`, emitting the items; a non-array answer is emitted once. A failure emits nothing and
   * is logged. With the cache on and `force` falsy, a path read before yields its last value.
   */
  get<T = any>(path: string, force?: boolean, qs?: string): Highland.Stream<T>
  /** Sends `JSON.stringify(body)` now; a one-value stream of the answer's text (failures are stream errors). */
  put(path: string, body?: unknown, qs?: string): Highland.Stream<string>
  /** As `put`, with POST. */
  post(path: string, body?: unknown, qs?: string): Highland.Stream<string>
  /** As `put`, with DELETE; a body is sent only when one is given. */
  delete(path: string, body?: unknown, qs?: string): Highland.Stream<string>
  /** Publishes `{tags, value, type}` (type `event` by default) now; the request goes out even if the stream is not consumed. */
  event(tags: string[], value?: unknown, type?: string): Highland.Stream<string>
  /** `get('info', force)`. */
  info<T = any>(force?: boolean): Highland.Stream<T>
  /** `get('config', force, 'flatten=true')`: one flat map, e.g. `config['vamp.gateway-driver.host']`. */
  config(force?: boolean): Highland.Stream<Record<string, any>>
  /** Every gateway, page by page. */
  gateways<T = any>(force?: boolean): Highland.Stream<T>
  /** Every deployment, page by page. */
  deployments<T = any>(force?: boolean): Highland.Stream<T>
  /** The map's values in key order, each given its key as `name` (the values are changed). */
  namify<T extends object>(map: Record<string, T>): Highland.Stream<T & { name: string }>
}

/** Options of `Http.request`: node's request options; `method` defaults to GET, `headers` to `{}`. */
export type HttpOptions = RequestOptions

/** Promises of response bodies. */
export interface Http {
  /**
   * Resolves with the body on a 2xx status; rejects with `Error('[<status>]: <body>')` on any other
   * (redirects are not followed) and with the socket error when the connection fails. A truthy
   * `data` goes out chunked. Over https, `$VAMP_TLS_CHECK=false` skips the certificate check and
   * `$VAMP_CA` names a CA file.
   */
  request(url: string, options?: HttpOptions, data?: string | Buffer): Promise<string>
  /** `request` with GET. */
  get(url: string, options?: HttpOptions): Promise<string>
}

/** The client's logger (stdout). */
export interface Log {
  log(...args: any[]): void
}

/** Small helpers. */
export interface Util {
  /** True only for `true`, `yes` or `1`, trimmed, in any case. */
  boolean(value: unknown): boolean
}

/** A server filter: `{term: {field: value}}` or `{range: {field: {gt?, gte?, lt?, lte?}}}`. */
export type MetricsFilter =
  | { term: Record<string, string | number | boolean> }
  | { range: Record<string, { gt?: number; gte?: number; lt?: number; lte?: number }> }

/** The metrics calls, answered by the server's `POST /api/v1/metrics/query`; each request starts at the call. */
export interface ElasticsearchMetrics {
  /** The number of access-log records matching every `term` key (and `range`) in the last `seconds`. */
  count(
    term: Record<string, string | number>,
    range: Record<string, { gt?: number; gte?: number; lt?: number; lte?: number }> | null | undefined,
    seconds: number,
  ): Highland.Stream<number>
  /** `rate` = total/seconds and `average` of `field`, both to 2 decimals (`average` 0 without records). */
  average(
    term: Record<string, string | number>,
    field: string,
    seconds: number,
  ): Highland.Stream<{ total: number; rate: number; average: number }>
  /** Figures to 1 decimal (0 without records), `rate` to 2. */
  stats(
    filters: MetricsFilter[],
    field: string,
    seconds: number,
  ): Highland.Stream<{ total: number; rate: number; avg: number; min: number; max: number; stdDeviation: number }>
  /** Percentiles keyed as the server sends them (`"50.0"`), to 1 decimal. */
  percentile(
    filters: MetricsFilter[],
    field: string,
    seconds: number,
    percents: number[],
  ): Highland.Stream<{ total: number; rate: number; percentile: Record<string, number> }>
  /** `api.event`; the type defaults to `$VAMP_ELASTICSEARCH_EVENT_TYPE`, then `event`. The salt is ignored. */
  event(tags: string[], value?: unknown, type?: string, salt?: string): Highland.Stream<string>
  /** The same as `event`. */
  eventV2(tags: string[], value?: unknown, type?: string, salt?: string): Highland.Stream<string>
  /** Not provided: always throws `Error('search is not supported')`. */
  search(term?: unknown, seconds?: number, size?: number): never
}

/** Each export can be called with or without `new`. */
export const Api: { new (options?: ApiOptions): Api; (options?: ApiOptions): Api }
export const Http: { new (): Http; (): Http }
export const Log: { new (): Log; (): Log }
export const Util: { new (): Util; (): Util }
export const ElasticsearchMetrics: {
  new (api?: Api, options?: object): ElasticsearchMetrics
  (api?: Api, options?: object): ElasticsearchMetrics
}
