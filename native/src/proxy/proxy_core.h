// The proxy's data path in C++: client connections, routing and the backend connections, for
// the requests the proxy forwards as they are (see frame_plain). TypeScript stays the control
// plane: it owns health (failures reported from here, probes, who is out), pushes the routing
// table, and takes over a client connection for good at its first request of any other kind
// (stats, version, flush_all, verbosity, an error...), after every reply owed on it went out.
//
// A plain request is routed by the ketama point of its key through the pushed table (up to
// `candidates` nodes per point, in the order the TypeScript router would try them), sent on a
// pipelined BackendConnection per node and lane (a multi-get over several nodes is split in one
// part per node and merged back in key order), and answered in request order from the client's
// ring of slots, one writev per client per loop turn. A request whose node fails before
// replying is retried on the next candidate when that is safe (get, gets, set, delete, touch;
// mg, me, md, ms in set mode: see meta_retryable), else answered with a SERVER_ERROR, as
// src/proxy/dispatcher.ts does. Meta commands (meta_framer.h) are plain whatever their flags:
// quiet mode's q is taken out and the replies it hides dropped, `mn` is answered in its place.
// A binary client (first byte 0x80) is served here for its keyed requests and noops
// (binary_framer.h), on binary backend connections (BackendNode::bconns).
//
// The work is split by job: proxy_core.cc (lifecycle, the loop, events), client.cc (client
// connections and reply order), dispatcher.cc (routing and retries), backend_node.cc (nodes,
// the routing table and backend callbacks). bindings/proxy_binding.cc makes it the ProxyCore
// class of JavaScript.
#pragma once
#include <uv.h>

#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/loop_notifier.h"
#include "protocol/request.h"
#include "proxy/backend_node.h"
#include "proxy/binary_framer.h"
#include "proxy/client.h"
#include "proxy/proxy_settings.h"
#include "proxy/proxy_stats.h"
#include "proxy/request_framer.h"

namespace mcha {

// A node failed (a: node, b: 1 for a timeout, text: why, replies: its replies so far), or a
// client goes to the TypeScript path (a: a duplicate of its descriptor, b: its lane, text: its
// unread input).
struct ProxyEvent {
  int32_t type;
  int32_t a;
  int32_t b;
  double replies;
  std::string text;
  bool binary = false;  // handoff: the client speaks the binary protocol
};

// Why a forwarded request got no reply from its node.
enum class ForwardFailure { Connection, Timeout, Overload };

class ProxyCore {
 public:
  // `deliver` gets the events, from the loop, at most one batch per loop turn.
  ProxyCore(uv_loop_t* loop, const ProxySettings& settings, std::function<void(const ProxyEvent&)> deliver);

  // The nodes in the control plane's order (nullptr: a name that does not resolve yet; the node
  // takes no requests until set_address()), and the ring's point values. Nodes are only ever
  // added (a reload's new servers); one the configuration dropped stays, routed to by no point.
  // New points take effect with the set_routes() that follows them.
  void add_node(const sockaddr_storage* addr);
  void set_address(size_t node, const sockaddr_storage& addr);
  void set_points(const uint32_t* values, size_t n);
  size_t nodes() const { return nodes_.size(); }
  size_t points() const { return points_.size(); }

  int listen(const std::string& host, uint32_t port, std::string& bound_host, uint32_t& bound_port);
  // Listens on a unix socket instead (-f).
  int listen_unix(const std::string& path);
  // cand: `candidates` node indexes per point (-1 pads), home: the home node per point, up: per node.
  void set_routes(const int16_t* cand, const int16_t* home, const uint8_t* up);
  // Fails every backend connection whose oldest request waited longer than timeout_ms.
  void check_timeouts(uint64_t timeout_ms);
  // Clients on the TypeScript path (they count against -n too).
  void set_other_clients(uint32_t n) { other_clients_ = n; }
  // The proxy counters (ProxyCounter order), then per node its NodeCounter values.
  void stats(std::vector<double>& out);
  void reset_stats();
  // Closes everything; frees itself once every handle and connection is closed.
  void stop();

 private:
  ~ProxyCore() = default;

  // client.cc: client connections and reply order
  static void on_connection(uv_stream_t* server, int status);
  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_client_closed(uv_handle_t* h);
  ClientConnection* find(uint32_t id);
  static size_t unsent(const ClientConnection* c) { return c->out.size() + c->inflight.size(); }
  bool within_bounds(const ClientConnection* c) const;
  void update_reading(ClientConnection* c);
  void process_held(ClientConnection* c);
  size_t process(ClientConnection* c, const char* p, size_t n, size_t off);
  void grow(ClientConnection* c);
  uint32_t new_slot(ClientConnection* c);
  void complete(ClientConnection* c, uint32_t seq, const char* p, size_t n);
  void mark_dirty(ClientConnection* c);
  void flush(ClientConnection* c, bool force);
  void kick_write(ClientConnection* c);
  void maybe_finish(ClientConnection* c);
  void handoff(ClientConnection* c);
  void close_client(ClientConnection* c);

  // dispatcher.cc: routing and retries
  uint32_t point_of(uint32_t hash) const;
  void forward(ClientConnection* c, const char* p, const PlainRequest& r);
  void forward_binary(ClientConnection* c, const char* p, const BinaryRequest& r);
  void answer_noop(ClientConnection* c, const char* p, const BinaryRequest& r);
  size_t process_binary(ClientConnection* c, const char* p, size_t n, size_t off);
  void forward_keys(ClientConnection* c, uint32_t seq);
  int pick(const RequestUnit& u, uint32_t point) const;
  static RequestUnit& unit_of(ReplySlot& s, uint32_t part) { return part == 0 ? s.unit : s.parts[part - 1].unit; }
  void route(ClientConnection* c, uint32_t seq, uint32_t part);
  void retry(ClientConnection* c, uint32_t seq, uint32_t part, int node, ForwardFailure why);
  void answer(ClientConnection* c, uint32_t seq, uint32_t part, const char* p, size_t n);
  ReplySlot* slot_for(const BackendRequest& r, ClientConnection*& c, uint32_t& seq);

  // backend_node.cc: backend connections' callbacks
  BackendConnection* open_conn(int node, size_t lane);
  void on_reply(int node, const BackendRequest& r, const char* p, size_t n);
  void on_failed(int node, size_t lane, BackendConnection* conn, std::vector<BackendRequest>&& waiting, const char* why, CloseReason reason);

  // proxy_core.cc: the loop
  void work() { notifier_->arm(); }
  void on_turn();
  void flush_listed(std::vector<uint32_t>& ids, bool ClientConnection::*listed, bool force);
  static void on_later(uv_timer_t* t);
  void deliver_events();
  void close_listener();
  static void on_handle_closed(uv_handle_t* h);
  void handle_closed();

  uv_loop_t* loop_;
  ProxySettings settings_;
  std::function<void(const ProxyEvent&)> deliver_;
  LoopNotifier* notifier_;
  uv_timer_t later_timer_;
  std::vector<uint32_t> later_;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } listener_;
  bool listening_ = false;
  bool unix_ = false;  // clients come over a unix socket
  bool stopping_ = false;
  int open_ = 0;  // handles, the notifier and backend connections still open
  uint32_t other_clients_ = 0;
  uint32_t next_id_ = 1;
  uint32_t next_lane_ = 0;
  std::unordered_map<uint32_t, ClientConnection*> clients_;
  std::vector<uint32_t> dirty_;
  std::deque<ProxyEvent> events_;
  std::vector<BackendNode> nodes_;
  std::vector<uint32_t> points_;
  std::vector<int16_t> cand_;
  std::vector<int16_t> home_;
  std::vector<uv_buf_t> iov_;
  std::vector<uint32_t> key_hashes_;  // forward_keys: each key's hash
  std::vector<int> key_nodes_;        // forward_keys: each key's first node
  double counters_[kProxyCounters] = {};
  Request req_;
  char read_buf_[64 * 1024];
};

}  // namespace mcha
