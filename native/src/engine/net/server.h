// The client listener on Node's loop and the workers that serve what it accepts: with -t 1 one
// worker on Node's loop itself, with -t N N worker threads that take accepted descriptors in
// turn. Counts connections against -c across all of them; stop() lets composed replies go
// out, then closes everything and ends the threads. Mirrors src/engine/ts/net/server.ts (which
// is always the first case).
#pragma once
#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/commands/execute.h"
#include "engine/net/sync_gate.h"
#include "engine/net/worker.h"
#include "engine/settings.h"
#include "engine/store/store.h"

namespace mcha {

class Server {
 public:
  // `gate` is set in sync mode only. Commands run under `store_lock`.
  Server(uv_loop_t* loop, const Settings& settings, Store& store, std::mutex& store_lock, Commands& commands, SyncGate* gate);
  ~Server();
  // Binds and listens on `host` and starts the worker threads; returns 0 or a libuv error code.
  int listen(const std::string& host, std::string& bound_host, uint32_t& bound_port);
  // Stops accepting, lets composed replies go out, closes every connection and ends the
  // threads; calls done() on Node's loop when every handle is closed.
  void stop(std::function<void()> done);
  bool threaded() const { return workers_.size() > 1; }

  uint32_t port() const { return port_; }
  std::vector<ConnectionInfo> describe_connections();
  // Summed over the workers, as memcached sums its threads' stats.
  ConnectionCounters counters() const;
  void reset_counters();
  // Sync mode: the peer's acknowledgement moved on (Node's thread).
  void acknowledged();

  // For its workers (any thread).
  const Settings& settings() const { return settings_; }
  Store& store() { return store_; }
  std::mutex& store_lock() { return store_lock_; }
  Commands& commands() { return commands_; }
  SyncGate* gate() { return gate_; }
  uint64_t next_connection_id() { return next_id_.fetch_add(1, std::memory_order_relaxed); }
  // A new connection within -c: counted and true; else counted as rejected and false.
  bool admit_connection();
  void connection_ended() { curr_.fetch_sub(1, std::memory_order_relaxed); }
  // A worker has closed everything (a thread's: its loop has ended).
  void worker_stopped();

 private:
  static void on_connection(uv_stream_t* s, int status);
  static void on_acceptable(uv_poll_t* p, int status, int events);
  void pause_accepting();
  void close_listener();
  void close_handle(uv_handle_t* h);
  void maybe_done();

  uv_loop_t* loop_;
  const Settings& settings_;
  Store& store_;
  std::mutex& store_lock_;
  Commands& commands_;
  SyncGate* gate_;
  std::vector<std::unique_ptr<Worker>> workers_;
  size_t started_workers_ = 0, next_worker_ = 0;
  std::atomic<size_t> stopped_workers_{0};
  std::atomic<uint64_t> curr_{0}, total_{0}, rejected_{0}, next_id_{1};
  uv_tcp_t listener_;
  // Threaded: the listening socket is watched by a poll handle and accepted from by hand.
  int listen_fd_ = -1;
  uv_poll_t poll_;
  uv_timer_t accept_pause_;
  bool polling_ = false, pause_open_ = false;
  uv_async_t stopped_async_;
  bool stopped_async_open_ = false, joined_ = false;
  uint32_t port_ = 0;
  int handles_open_ = 0;
  bool listening_ = false;
  bool stopping_ = false;
  std::function<void()> done_;
};

}  // namespace mcha
