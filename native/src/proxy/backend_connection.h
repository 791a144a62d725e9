// One pipelined connection from the proxy's C++ data path to a memcached node: requests go out
// in order (one write per loop turn at most, more while the socket is full), replies come back
// in the same order and are framed by the shape each request expects. A failure (connect
// error, reset, a reply out of step, or the owner's close(), e.g. on its timeout) ends the
// connection and hands every request still waiting back to the owner, which retries or fails
// each one.
#pragma once
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "proxy/reply_reader.h"

namespace mcha {

struct BackendRequest {
  uint64_t token;     // the owner's: which client slot waits for this reply
  ReplyShape shape;
  uint64_t sent_ns;   // uv_hrtime when queued: latency, and the owner's timeouts
  uint32_t part = 0;  // the owner's: which part of a split request (0: the whole request)
};

// Why a connection ended: the owner counts the first two against the node's health.
enum class CloseReason : uint8_t { Connection, Timeout, ByOwner };

class BackendConnection {
 public:
  struct Callbacks {
    // A whole reply, in request order; the bytes are valid during the call only.
    std::function<void(BackendConnection*, const BackendRequest&, const char* reply, size_t len)> reply;
    // The connection ended (and is deleted right after): `waiting` holds every request with no
    // reply, oldest first.
    std::function<void(BackendConnection*, std::vector<BackendRequest>&& waiting, const char* why, CloseReason)> failed;
  };

  // Connects at once; `max_value` bounds a VALUE block, `max_unsent` the queued output.
  static BackendConnection* open(uv_loop_t* loop, const sockaddr* addr, size_t max_value, size_t max_unsent, Callbacks cb);

  // Queues one request; false (nothing queued) when the connection is closed or too far behind.
  bool send(const char* p, size_t n, const BackendRequest& r);
  // Ends the connection; `failed` runs (later, from the loop) with what was waiting.
  void close(const char* why, CloseReason reason = CloseReason::Connection);
  bool closed() const { return closing_; }
  size_t waiting() const { return pending_.size(); }
  // When the oldest request without a reply was queued (uv_hrtime); 0 when none waits.
  uint64_t oldest_sent() const { return pending_.empty() ? 0 : pending_.front().sent_ns; }

 private:
  BackendConnection(uv_loop_t* loop, size_t max_value, size_t max_unsent, Callbacks cb);
  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_check(uv_check_t* h);
  static void on_closed(uv_handle_t* h);
  void kick_write();
  void consume();

  uv_tcp_t handle_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  uv_check_t check_;
  int open_handles_ = 0;
  bool connected_ = false;
  bool writing_ = false;
  bool closing_ = false;
  std::string why_;
  CloseReason reason_ = CloseReason::Connection;
  size_t max_value_;
  size_t max_unsent_;
  Callbacks cb_;
  std::deque<BackendRequest> pending_;
  std::string out_;
  std::string inflight_;
  std::string in_;
  size_t in_off_ = 0;
  size_t scan_ = 0;
  char read_buf_[64 * 1024];
};

}  // namespace mcha
