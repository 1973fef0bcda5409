// Shared by the default `metrics` and `health` workflows: the gateways, the
// server's metrics query (POST /api/v1/metrics/query) and event posting.
// A failing query is logged and the run goes on.
const vamp = require('vamp-node-client');
const api = new vamp.Api();
function query(body) {
  return new vamp.Http()
    .request(api.url + '/metrics/query', {method: 'POST', headers: {'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'token ' + (process.env.VAMP_API_TOKEN || '')}}, JSON.stringify(body))
    .then(JSON.parse)
    .catch(e => { console.log('metrics query failed: ' + e.message); return null; });
}
function gateways(each) {
  api.gateways().each(g => { each(g); });
}
