// Compiled by types.test.js with `tsc --noEmit --strict`: usage as workflows write it.
import _ = require('highland')
import vamp = require('..')

const api = new vamp.Api({ host: 'http://127.0.0.1:8080', token: 't', namespace: 'ns', cache: 'false' })
const plain: vamp.Api = vamp.Api()
const url: string = api.url + plain.url
const http = new vamp.Http()
const metrics = new vamp.ElasticsearchMetrics(api)
const yes: boolean = vamp.Util().boolean('yes')
new vamp.Log().log('url', url, yes)

api.config().each((config) => {
  const host: string = config['vamp.gateway-driver.host']
  http.get('http://' + host + ':9150/').then((body: string) => JSON.parse(body))
})
api.get<{ routes: Record<string, { weight: string }> }>('gateways/x', true, 'a=b').each((gateway) => {
  http
    .request(
      api.url + '/gateways/x',
      { method: 'PUT', headers: { Accept: 'application/json' } },
      JSON.stringify(gateway),
    )
    .catch((e: Error) => api.event(['workflows:x', 'error'], String(e)))
})
api
  .gateways()
  .flatMap((gateway: { name: string; routes: Record<string, { lookup_name: string }> }) =>
    api.namify(gateway.routes).map((route) => route.name + route.lookup_name),
  )
api.put('breeds/b', { name: 'b' }).each((text: string) => text.length)
api.delete('breeds/b').done(() => undefined)
_([1, 2])
  .map(() => _(http.get('http://127.0.0.1/').then(JSON.parse)))
  .sequence()

metrics.count({ ft: 'shop' }, { ST: { gte: 500 } }, 30).each((n: number) => n + 1)
metrics.average({ ft: 'shop' }, 'Tt', 30).each((a) => a.rate + a.average + a.total)
metrics.stats([{ term: { ft: 'shop' } }], 'Tt', 30).each((s) => s.stdDeviation)
metrics.percentile([{ range: { Tt: { gt: 0 } } }], 'Tt', 30, [50, 95]).each((p) => p.percentile['50.0'])
metrics.event(['gateways:x', 'health'], 1, 'health', 'salt')
