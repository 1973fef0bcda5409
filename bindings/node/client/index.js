'use strict'
// vamp-node-client: the client module JavaScript workflows `require`, with the original's exports.
// Every export works with and without `new`.

module.exports = {
  Log: require('./log'),
  Api: require('./api'),
  Util: require('./util'),
  Http: require('./http'),
  ElasticsearchMetrics: require('./metrics'),
}
