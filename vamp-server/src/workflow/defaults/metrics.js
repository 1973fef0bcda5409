const window = Number(process.env.METRICS_TIME_WINDOW || 30);
const type = process.env.VAMP_ELASTICSEARCH_EVENT_TYPE || 'metrics';
function publish(tags, lookup) {
  query({window, filters: [{term: {ft: lookup}}], aggregation: {type: 'avg', field: 'Tt'}}).then(r => {
    if (!r) return;
    const rate = Math.round(r.total / window * 100) / 100;
    api.event(tags.concat(['metrics:rate']), rate, type);
    api.event(tags.concat(['metrics:responseTime']), Math.round((r.avg || 0) * 100) / 100, type);
  });
}
gateways(g => {
  publish(['gateways:' + g.name, 'gateway'], g.lookup_name || g.name);
  Object.keys(g.routes || {}).forEach(r => {
    publish(['gateways:' + g.name, 'routes:' + r, 'route'], (g.routes[r] || {}).lookup_name || r);
  });
});
