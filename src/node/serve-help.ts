export const SERVE_HELP = `Usage: memcache-ha-native serve [options]

A memcached-compatible cache node (text, meta and binary protocols).

  -p, --port <num>            TCP port to listen on (default 11211; 0 picks a free port)
  -l, --listen <addr>         interface to listen on (default 127.0.0.1, not every address)
  -U, --udp-port <num>        accepted for compatibility: UDP is not served (0 is silent)
  -m, --memory-limit <mb>     item memory in megabytes (default 64)
  -c, --conn-limit <num>      max simultaneous connections (default 1024)
  -t, --threads <num>         worker threads serving clients (default 4; 1: Node's own loop);
                              the TypeScript engine always serves from one thread
  -R, --max-reqs-per-event <n>
                              commands one connection runs before the others get a turn
                              (default 20)
  -I, --max-item-size <size>  largest item, e.g. 512k, 1m, 2m (default 1m; >= 1024 bytes,
                              <= 1 GB and <= half of -m)
  -v, --verbose               log more: -v events, -vv each command
  -d, --daemon                run in the background
  -P, --pidfile <file>        write the process id here (removed on exit)
      --log-file <file>       log here instead of stderr (reopened on SIGHUP, for logrotate)
  -u, --user <name>           when started as root, switch to this user after binding
  -M, --disable-evictions     answer "SERVER_ERROR out of memory" instead of evicting
  -C, --disable-cas           do not use CAS (gets reports 0)
  -A, --enable-shutdown       allow the "shutdown" command
  -F, --disable-flush-all     refuse "flush_all"
  -o, --extended <opts>       memcached's extended options: accepted, ignored with a warning
      --engine <name>         auto (default), native or ts
  -B, --protocol <name>       auto (default: from each connection's first byte), ascii or binary
  -S, --enable-sasl           require SASL PLAIN authentication (binary protocol only); the
      --sasl-pwdb <file>      users are user:password lines in this file or in the one
                              MEMCACHED_SASL_PWDB names (re-read on SIGHUP)
  -Y, --auth-file <file>      require memcached's text authentication (text protocol only):
                              user:password lines, re-read on SIGHUP

Replication (with one peer; both nodes take writes):
  -x, --peer <host>           the peer; keep reaching it on its -X port, resync on every reconnect
  -X, --repl-port <num>       replication port (default 11212): listened on when free, dialled on
                              the peer. Two nodes on one host share it: the holder listens
      --repl-listen <addr>    address of the replication port (default: the -l address)
      --repl-secret <text>    shared secret (HMAC handshake); required off loopback. Also read
      --repl-secret-file <f>  from a file or from MEMCACHE_HA_REPL_SECRET
      --repl-mode <mode>      async (default: reply at once) or sync (reply once the peer has it)
      --repl-backlog <size>   own writes kept for partial resyncs (default 64m)
      --serve-stale           accept clients while still catching up with the peer

Monitoring:
      --metrics-port <num>    serve Prometheus metrics at http://<addr>:<num>/metrics (off by
                              default; 0 picks a free port, shown on the start-up line)
      --metrics-listen <addr> address of the metrics port (default 127.0.0.1)
  -h, --help                  this text
  -V, --version               print the version

Examples:
  memcache-ha-native serve                       # 127.0.0.1:11211, 64 MB
  memcache-ha-native serve -p 11222 -m 1024 -v   # 1 GB on port 11222, logging events
  memcache-ha-native serve -d -P /run/mc.pid     # in the background
  memcache-ha-native serve -d -x 127.0.0.1                # a pair on one host: ports 11211
  memcache-ha-native serve -d -x 127.0.0.1 -p 11222       # and 11222, replicating via 11212
`;
