// The client listener: accepts up to -c connections as libuv handles on Node's own loop and
// hands each to a Connection; stop() lets composed replies go out, then closes everything.
// Mirrors src/engine/ts/net/server.ts.
#pragma once
#include <uv.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "engine/commands/execute.h"
#include "engine/net/sync_gate.h"
#include "engine/settings.h"
#include "engine/store/store.h"

namespace mcha {

class Connection;

class Server {
 public:
  // `gate` is set in sync mode only.
  Server(uv_loop_t* loop, const Settings& settings, Store& store, Commands& commands, ConnectionCounters& counters, SyncGate* gate);
  ~Server();
  // Binds and listens on `host`; returns 0 or a libuv error code.
  int listen(const std::string& host, std::string& bound_host, uint32_t& bound_port);
  // Stops accepting, lets composed replies go out, closes every connection; calls done() when
  // every handle is closed.
  void stop(std::function<void()> done);

  uint32_t port() const { return port_; }
  std::vector<ConnectionInfo> describe_connections();

  // For its connections.
  uv_loop_t* loop() { return loop_; }
  const Settings& settings() const { return settings_; }
  Store& store() { return store_; }
  Commands& commands() { return commands_; }
  ConnectionCounters& counters() { return counters_; }
  SyncGate* gate() { return gate_; }
  void connection_closed(Connection* c);

 private:
  static void on_connection(uv_stream_t* s, int status);
  void close_listener();
  void maybe_done();

  uv_loop_t* loop_;
  const Settings& settings_;
  Store& store_;
  Commands& commands_;
  ConnectionCounters& counters_;
  SyncGate* gate_;
  uv_tcp_t listener_;
  uv_timer_t stop_timer_;
  std::set<Connection*> open_;
  uint64_t next_id_ = 1;
  uint32_t port_ = 0;
  int handles_open_ = 0;
  bool listening_ = false;
  bool stopping_ = false;
  std::function<void()> done_;
};

}  // namespace mcha
