// One client connection as a libuv handle: reads, frames lines and data blocks, executes each
// request and sends the replies of one read event in one writev. Mirrors
// src/engine/ts/net/connection.ts.
#pragma once
#include <uv.h>

#include <deque>
#include <string>

#include "engine/commands/execute.h"
#include "protocol/reply_writer.h"
#include "protocol/request.h"

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
  std::string meta_line_;  // an ms line, which req_ points into until its block is complete
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

}  // namespace mcha
