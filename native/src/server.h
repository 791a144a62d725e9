// The client listener and every client connection, as libuv handles on Node's own loop:
// reading, parsing, executing and replying happen here with no JavaScript per request.
#pragma once
#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "commands.h"
#include "mutation_log.h"
#include "snapshot.h"
#include "request.h"
#include "settings.h"
#include "store.h"
#include "version_clock.h"
#include "writer.h"

namespace mcha {

class Server;

class Connection {
 public:
  Connection(Server& server, uint64_t id);
  ~Connection();
  uv_tcp_t* handle() { return &handle_; }
  uint64_t id() const { return id_; }
  ConnectionInfo describe();
  void start();
  // Sends what is composed, then closes; a client that does not read is cut off after a while.
  void close_after_flush();
  void close_now();
  // Sync mode: the peer acknowledged up to `acked` (-1: no peer): send the replies that may go.
  void release(int64_t acked);
  // Counted in curr_connections (not a connection refused by -c).
  bool counted = false;

 private:
  enum class State { Line, Data, Swallow };
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_close(uv_handle_t* h);

  void process();
  void process_buffer();
  bool line_may_grow(size_t off, size_t len) const;
  bool is_get_line(size_t off, size_t len) const;
  void completed(bool transmits);
  void flush();
  void send(WriteBatch* b);
  void begin_shutdown();
  size_t unsent() const { return handle_.write_queue_size + held_bytes_; }

  Server& server_;
  uint64_t id_;
  uv_tcp_t handle_;
  uv_timer_t linger_;
  bool linger_started_ = false;
  uv_shutdown_t shutdown_req_;
  char* rbuf_ = nullptr;
  size_t rcap_ = 0, rpos_ = 0, rlen_ = 0;
  State state_ = State::Line;
  Request req_;
  Item* item_ = nullptr;  // being filled by a storage command's data block
  size_t filled_ = 0;     // bytes of the block so far: the value, then its two-byte terminator
  char trailer_[2];
  size_t swallow_ = 0;
  Writer out_;
  bool reading_ = false, waiting_for_drain_ = false, closing_ = false, closed_ = false;
  int handles_open_ = 0;
  unsigned completions_ = 0;
  bool processing_ = false;
  uint32_t last_command_at_ = 0;
  // Sync mode: batches waiting for the peer to acknowledge the stream up to `offset`.
  struct Held {
    WriteBatch* batch;
    uint64_t offset;
  };
  std::deque<Held> held_;
  size_t held_bytes_ = 0;
  uint64_t seen_log_end_ = 0;  // the log's end when last looked: a change means this connection wrote
  bool shutdown_pending_ = false;
};

class Server {
 public:
  // `records_waiting` is called when the mutation log gets its first record since the last drain.
  Server(uv_loop_t* loop, Settings settings, std::function<void(bool)> shutdown_request, std::function<void()> records_waiting);
  ~Server();
  // Binds and listens; returns 0 or a libuv error code.
  int listen(std::string& bound_host, uint32_t& bound_port);
  // Stops accepting, lets composed replies go out, closes every connection; calls done() when
  // every handle is closed.
  void stop(std::function<void()> done);

  uv_loop_t* loop() { return loop_; }
  Settings& settings() { return settings_; }
  Store& store() { return store_; }
  Commands& commands() { return commands_; }
  ConnectionCounters& counters() { return counters_; }
  void connection_closed(Connection* c);

  // Replication (nullptr / no-ops on a standalone node).
  MutationLog* log() { return log_.get(); }
  Snapshot* snapshot() { return snapshot_.get(); }
  VersionClock& clock() { return clock_; }
  void set_replication_stats(std::string text) { replication_stats_ = std::move(text); }
  // The log a connection's replies wait on: set in sync mode only.
  MutationLog* sync_log() { return settings_.sync_mode ? log_.get() : nullptr; }
  bool must_hold(uint64_t offset) const { return acked_ >= 0 && offset > static_cast<uint64_t>(acked_); }
  void hold(Connection* c) { held_.insert(c); }
  void unhold(Connection* c) { held_.erase(c); }
  void set_acknowledged(int64_t acked);

 private:
  static void on_connection(uv_stream_t* s, int status);
  static void on_sweep(uv_timer_t* t);
  void maybe_done();

  uv_loop_t* loop_;
  Settings settings_;
  Store store_;
  VersionClock clock_;
  ConnectionCounters counters_;
  std::unique_ptr<MutationLog> log_;
  std::unique_ptr<Snapshot> snapshot_;
  std::string replication_stats_;
  int64_t acked_ = -1;
  std::set<Connection*> held_;
  Commands commands_;
  uv_tcp_t listener_;
  uv_timer_t sweep_timer_;
  uv_timer_t stop_timer_;
  std::set<Connection*> open_;
  uint64_t next_id_ = 1;
  uint32_t port_ = 0;
  int handles_open_ = 0;
  bool stopping_ = false;
  std::function<void()> done_;
};

}  // namespace mcha
