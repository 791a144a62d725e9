// One client connection as a libuv handle on its worker's loop: reads, frames lines and data
// blocks, executes each request and sends the replies of one read event in one writev. The
// commands of one read event run under one hold of the store lock, which is let go before any
// reply is written. Mirrors src/engine/ts/net/connection.ts.
#pragma once
#include <uv.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <string>

#include "engine/auth/credentials.h"
#include "engine/commands/execute.h"
#include "protocol/binary.h"
#include "protocol/reply_writer.h"
#include "protocol/request.h"

namespace mcha {

class Worker;

class Connection {
 public:
  Connection(Worker& worker, uint64_t id);
  ~Connection();
  uv_tcp_t* handle() { return &handle_; }
  uint64_t id() const { return id_; }
  // `stats conns`, from any thread, under the worker's lock that publish() was called under.
  ConnectionInfo describe() const;
  // Counts the connection and fixes the address `stats conns` shows.
  void publish(std::string addr) {
    counted = true;
    addr_ = std::move(addr);
  }
  void start();
  // Sends what is composed, then closes; a client that does not read is cut off after a while.
  void close_after_flush();
  void close_now();
  // Its turn again after a yield at -R (the worker's idle handle, on its thread).
  void resume();
  // Sync mode: the peer acknowledged up to `acked` (-1: no peer): send the replies that may go.
  void release(int64_t acked);
  // Counted in curr_connections (not a connection refused by -c). Set once, by publish().
  bool counted = false;

 private:
  // Line and Data: text; BinaryHeader (a packet's header, extras and key) and BinaryValue (its
  // value into an item): binary; Swallow: either; AuthLine and AuthData: -Y's `set` line and
  // its `user password` block, before a text connection is authenticated.
  enum class State { Line, Data, Swallow, BinaryHeader, BinaryValue, AuthLine, AuthData };
  enum class Protocol { Unknown, Text, Binary };
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_close(uv_handle_t* h);

  void process();
  void process_buffer();
  void stop_reading();
  // One step of the binary or -Y state machine on the bytes in the buffer: false when it needs
  // more (or the connection is closing).
  bool binary_step();
  bool ascii_auth_step();
  void binary_next(const BinaryNext& next);
  // A failed authentication: nothing is read or sent until the delay has passed.
  void delay_after_auth_failure();
  State idle_state() const { return protocol_ == Protocol::Binary ? State::BinaryHeader : auth_line() ? State::AuthLine : State::Line; }
  bool auth_line() const;
  void completed(bool transmits);
  // One visit to conn_new_cmd: past -R of them the connection yields.
  void visit();
  // Sends what is composed; with `marked_only`, what precedes the last transmit point.
  void flush(bool marked_only = false);
  void send(WriteBatch* b);
  void begin_shutdown();
  size_t unsent() const { return handle_.write_queue_size + held_bytes_; }
  // memcached's name for what the connection is doing, as `stats conns` shows it.
  const char* state_name() const;
  void unlock_store() {
    if (store_held_.owns_lock()) store_held_.unlock();
  }

  Worker& worker_;
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
  Protocol protocol_ = Protocol::Unknown;
  binary::Request breq_;  // the binary request whose value is being read
  AuthState auth_;
  uint64_t auth_data_ = 0;  // -Y: bytes of the `user password` block, "\r\n" included
  uv_timer_t auth_delay_;
  bool auth_delay_open_ = false, auth_delayed_ = false;
  bool reading_ = false, waiting_for_drain_ = false, closing_ = false, closed_ = false;
  int handles_open_ = 0;
  // memcached's visits to conn_new_cmd in this event, which -R bounds (see completed()); a reply
  // composed since its last transmit point (memcached's resp_head).
  unsigned visits_ = 0;
  bool reply_pending_ = false;
  // This event stopped at -R; with commands left, the next one goes on from there.
  bool yielded_ = false, goes_on_ = false;
  // Queued on the worker to go on with buffered commands; meanwhile a read only adds to the
  // buffer, an end of input is kept for after them, and reading stops past one more chunk.
  bool resume_queued_ = false, end_of_input_ = false;
  // What `stats conns` reads from other threads: set at the start and end of each read event.
  std::string addr_;
  std::atomic<const char*> shown_state_{"conn_new_cmd"};
  std::atomic<uint32_t> last_command_at_{0};
  std::unique_lock<std::mutex> store_held_;
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
