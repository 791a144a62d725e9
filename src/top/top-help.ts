export const TOP_HELP = `Usage: memcache-ha-native top [options] [host[:port] ...]

A live view of memcached servers: cache nodes, proxies, or any memcached, read over the plain
"stats" every memcached answers (and a node's "stats replication", a proxy's "stats proxy").
Per target, refreshed every second: ops/s by command, hit ratio, memory against the limit,
items, evictions, client connections; for a node its replication state and lag; for a proxy
the cluster's sums and each backend with its state, requests/s and p99 latency.
In a terminal it draws a screen (q quits); piped or redirected it prints one line per
target per refresh instead. The default target is 127.0.0.1:11211.

Options:
  -d, --delay <seconds>       time between refreshes (default 1; 0.1 to 3600)
  -n, --iterations <count>    refresh this many times, then exit (default: until q or ^C)
  -h, --help                  this text

Examples:
  memcache-ha-native top
  memcache-ha-native top 10.0.0.1:11211 10.0.0.2:11211 10.0.0.5:11233
  memcache-ha-native top -n 5 127.0.0.1:11211 > top.log
`;
