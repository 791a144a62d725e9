export const PROXY_HELP = `Usage: memcache-ha-native proxy [options]

A memcached router with magent's flags: ketama (libmemcached's weighted MD5 continuum) over
shards, health checks, failover to a node's replica, and no reads from a node still resyncing.

magent's flags:
  -p, --port <num>            port clients use (default 11211; 0 picks a free port)
  -l, --listen <addr>         interface to listen on (default 127.0.0.1)
  -s, --server <host:port>    a main server, repeatable; ":weight" adds a ketama weight
                              (-s 10.0.0.1:11211:2), and "A,B" makes a replica group: one
                              shard whose nodes are tried in order (-s 10.0.0.1:11211,10.0.0.2:11211)
  -b, --backup <host:port>    a backup server, repeatable: writes are copied to it once the main
                              server took them; reads fall back to it on an error, and on a miss
                              from a main that is not in sync
  -n, --max-clients <num>     max simultaneous clients (default 4096)
  -i, --connections <num>     pipelined connections per server (default 1)
  -k, --ketama                accepted: ketama is always used
  -D, --foreground            accepted: the proxy stays in the foreground unless -d is given
  -u, --user <name>           when started as root, switch to this user after binding
  -g, --group <name>          accepted: the user's own group is used
  -f, --socket <path>         listen on a unix socket instead of TCP

Extensions:
  -d, --daemon                run in the background
  -P, --pidfile <file>        write the process id here (removed on exit)
      --log-file <file>       log here instead of stderr (reopened on SIGHUP, for logrotate)
  -v, --verbose               log more (-v: every failure and probe result)
  -I, --max-item-size <size>  largest value taken from a client (default 1m)
      --timeout <ms>          a backend request without a reply by then fails (default 1000)
      --probe-interval <ms>   how often every server is probed with "stats replication"
                              (default 500)
      --failure-limit <num>   consecutive failures that take a server out (default 2)
      --warmup <ms>           with -b: after a main without replication was lost, its misses
                              are asked of the backup for this long (default 60000)
  -c, --config <file>         settings from a JSON or YAML file; flags override it. Keys:
                              listen, port, socket, servers, backups, max_clients, connections,
                              timeout_ms, probe_interval_ms, failure_limit, warmup_ms,
                              max_item_size, verbose, sasl, sasl_pwdb, auth_file,
                              backend_auth_file, backend_user, backend_password,
                              metrics_port, metrics_listen. SIGHUP (or POST /-/reload on the
                              metrics port) re-reads it: servers and timeouts change without
                              dropping a client; a file that does not parse is refused
  -S, --enable-sasl           binary clients must log in with SASL PLAIN (text clients are
                              refused, as by memcached -S)
      --sasl-pwdb <file>      users for -S, user:password lines (default: the file
                              MEMCACHED_SASL_PWDB names; re-read on SIGHUP)
  -Y, --auth-file <file>      text clients must log in as with memcached -Y (a first
                              "set <key> 0 0 <n>" of "user password"); binary clients are refused
      --backend-auth <file>   log in to the backends with the first user:password line of
                              <file>: SASL PLAIN on binary connections, -Y's set on text ones
      --metrics-port <num>    serve Prometheus metrics at http://<addr>:<num>/metrics (off by
                              default; 0 picks a free port, shown on the start-up line)
      --metrics-listen <addr> address of the metrics port (default 127.0.0.1)
      --engine <name>         the data path: auto (default: native when the addon loads),
                              native (client connections, routing and backend connections
                              in C++) or ts (all in TypeScript)
  -h, --help                  this text
  -V, --version               print the version

A server that is out gets no requests; probes bring it back only once it answers and, if it
replicates, reports itself in sync. Two -s servers that replicate each other (seen in their
"stats replication") stand in for each other; a server without a replica is skipped and its
keys go to the next server on the ring, as twemproxy does.

Examples:
  memcache-ha-native proxy -p 11233 -s 127.0.0.1:11211 -s 127.0.0.1:11222
  memcache-ha-native proxy -s 10.0.0.1:11211,10.0.0.2:11211 -s 10.0.0.3:11211,10.0.0.4:11211
  memcache-ha-native proxy -s 10.0.0.1:11211 -b 10.0.0.9:11211 --timeout 200
  memcache-ha-native proxy -c /etc/memcache-ha/proxy.yaml

  # proxy.yaml
  port: 11233
  servers:
    - 10.0.0.1:11211,10.0.0.2:11211
    - [10.0.0.3:11211, 10.0.0.4:11211]
  timeout_ms: 500
`;
