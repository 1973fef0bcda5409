const window = Number(process.env.HEALTH_TIME_WINDOW || 30);
function health(tags, lookup) {
  query({window, filters: [{term: {ft: lookup}}, {range: {ST: {gte: 500}}}], aggregation: {type: 'count'}}).then(r => {
    if (r) api.event(tags.concat(['health']), r.total > 0 ? 0 : 1, 'health');
  });
}
gateways(g => {
  health(['gateways:' + g.name, 'gateway'], g.lookup_name || g.name);
  Object.keys(g.routes || {}).forEach(r => {
    health(['gateways:' + g.name, 'route', 'routes:' + r], (g.routes[r] || {}).lookup_name || r);
  });
});
