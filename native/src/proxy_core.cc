// The proxy's C++ data path (see proxy_core.h). A client connection here is a libuv handle: its
// plain requests (frame_plain) are routed by the ketama point of their key through the table
// TypeScript pushes (up to four candidate nodes per point, in the order the TypeScript router
// would try them), sent on a pipelined BackendConn per node and lane (a multi-get over several
// nodes split in one part per node, merged back in key order), and answered in request order
// from a ring of slots, one writev per client per loop turn. A request whose node fails
// before replying is retried on the next candidate when that is safe (get, gets, set, delete,
// touch), else answered with a SERVER_ERROR, as src/proxy/dispatcher.ts does.
#include "proxy_core.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "js_call.h"
#include "net_address.h"
#include "proxy_backend.h"
#include "proxy_frame.h"

namespace mcha {
namespace {

constexpr size_t kReadSize = 64 * 1024;
// Stop reading from a client with this many replies owed, or this much output unsent (the
// TypeScript client's bounds, src/proxy/client.ts and src/engine/ts/net/limits.ts).
constexpr uint32_t kMaxInFlight = 4096;
constexpr size_t kOutputHighWater = 4 * 1024 * 1024;
constexpr size_t kBackendMaxUnsent = 8 * 1024 * 1024;
constexpr int kMaxTries = 4;
constexpr int kCandidates = 4;
constexpr size_t kKeepCapacity = 64 * 1024;
constexpr size_t kMaxIov = 512;
// Replies of a pipelined batch wait for the rest of it (one write per batch instead of one per
// backend read), at most kLaterMs, and only while less than kEarlyFlush bytes are ready.
constexpr uint64_t kLaterMs = 1;
constexpr size_t kEarlyFlush = 16 * 1024;

const std::string kUnavailable = "SERVER_ERROR backend unavailable\r\n";
const std::string kTimeout = "SERVER_ERROR backend timeout\r\n";
const std::string kLost = "SERVER_ERROR backend connection lost\r\n";
const std::string kBusy = "SERVER_ERROR backend overloaded\r\n";

// Proxy-wide counters, in this order in stats() (src/proxy/native-core.ts reads them).
enum Counter { kCurrConnections, kTotalConnections, kRequests, kForwarded, kServerErrors, kFailovers, kRetries, kCmdGet, kCmdSet, kCmdTouch, kHandoffs, kCounters };
// Per node: requests, failovers, then 32 latency buckets (powers of two of microseconds).
constexpr int kLatencyBuckets = 32;
constexpr int kNodeCounters = 2 + kLatencyBuckets;

enum class Failure { Connection, Timeout, Overload };
enum EventType : int32_t { kEventFailure = 1, kEventHandoff = 2 };

bool retryable(int32_t kind) { return kind == kFrameGet || kind == kFrameSet || kind == kFrameDelete || kind == kFrameTouch; }
ReplyShape shape_of(int32_t kind) { return kind == kFrameGet ? ReplyShape::Values : ReplyShape::Line; }
const std::string& failure_reply(Failure f) { return f == Failure::Timeout ? kTimeout : f == Failure::Overload ? kBusy : kLost; }

// One request to one node: a client's request, or one part of a split multi-get.
struct Unit {
  std::string req;  // its bytes, kept until it is answered (a retry resends them)
  uint32_t point = 0;
  int32_t kind = 0;
  uint8_t ntried = 0;
  int16_t tried[kMaxTries] = {};
};

// A multi-get (or gat) over several nodes is split: one part per node, merged back in key order.
struct Part {
  Unit unit;
  std::vector<uint32_t> keys;  // indexes into Slot::keys
  std::string reply;
  bool done = false;
};

struct Slot {
  Unit unit;
  std::string out;  // the reply
  bool done = false;
  bool silent = false;  // noreply: the reply is dropped
  std::vector<std::string> keys;  // split: the keys as asked
  std::vector<Part> parts;        // split: the parts, in the order of their first key
  uint32_t parts_left = 0;
};

// The VALUE blocks of a get reply (framed by frame_reply, so well formed) as [start, end) with
// their keys; false when the reply is not VALUE ... END (an error line).
struct Block {
  std::string_view key;
  size_t start;
  size_t end;
};

bool value_blocks(const std::string& r, std::vector<Block>& out) {
  size_t at = 0;
  for (;;) {
    size_t nl = r.find('\n', at);
    if (nl == std::string::npos) return false;
    if (r.compare(at, 6, "VALUE ") != 0) return nl + 1 == r.size() && r.compare(at, nl + 1 - at, "END\r\n") == 0;
    size_t key_end = r.find(' ', at + 6);
    if (key_end == std::string::npos || key_end > nl) return false;
    // VALUE <key> <flags> <bytes> [<cas>]
    size_t flags_end = r.find(' ', key_end + 1);
    if (flags_end == std::string::npos || flags_end > nl) return false;
    size_t bytes = 0;
    size_t i = flags_end + 1;
    for (; i < nl && r[i] >= '0' && r[i] <= '9'; i++) bytes = bytes * 10 + static_cast<size_t>(r[i] - '0');
    if (i == flags_end + 1 || bytes > r.size()) return false;
    size_t end = nl + 1 + bytes + 2;
    if (end > r.size()) return false;
    out.push_back(Block{std::string_view(r).substr(at + 6, key_end - at - 6), at, end});
    at = end;
  }
}

// Puts a split get's part replies back together in the order the client asked for the keys
// (memcached's: hits in request order, duplicates repeated), as src/proxy/merge.ts does. A part
// that failed or answered with an error makes the whole reply that error: the client must not
// take a failure for misses.
void merge_get(const Slot& s, std::string& out) {
  std::vector<std::vector<Block>> blocks(s.parts.size());
  std::vector<uint32_t> part_of(s.keys.size());
  for (size_t p = 0; p < s.parts.size(); p++) {
    for (uint32_t i : s.parts[p].keys) part_of[i] = static_cast<uint32_t>(p);
    if (!value_blocks(s.parts[p].reply, blocks[p])) {
      out = s.parts[p].reply;
      return;
    }
  }
  std::vector<size_t> cursor(s.parts.size(), 0);
  for (size_t i = 0; i < s.keys.size(); i++) {
    uint32_t p = part_of[i];
    if (cursor[p] >= blocks[p].size()) continue;
    const Block& b = blocks[p][cursor[p]];
    if (b.key != s.keys[i]) continue;
    out.append(s.parts[p].reply, b.start, b.end - b.start);
    cursor[p]++;
  }
  out.append("END\r\n");
}

class Core;

struct Client {
  uv_tcp_t handle;
  uv_write_t write_req;
  Core* core = nullptr;
  uint32_t id = 0;
  uint32_t lane = 0;
  std::string in;  // input not framed yet, from in_off
  size_t in_off = 0;
  std::vector<Slot> ring;  // slots head_seq .. head_seq + count, at seq & (size - 1)
  uint32_t head_seq = 0;
  uint32_t count = 0;
  std::string out;       // replies not handed to libuv yet
  std::string inflight;  // handed to uv_write, until its callback
  bool writing = false;
  bool reading = false;
  bool eof = false;
  bool handoff = false;  // a request for the TypeScript path is next: hand over once idle
  bool closing = false;
  bool dirty = false;
  bool later = false;  // waits for the rest of its batch (the core's timer flushes it)

  Slot& at(uint32_t seq) { return ring[seq & (ring.size() - 1)]; }
  bool idle() const { return count == 0 && !writing && out.empty(); }
};

struct Node {
  sockaddr_storage addr;
  std::vector<BackendConn*> conns;  // one per lane
  bool up = true;
  double replies = 0;
  double counters[kNodeCounters] = {};
};

struct Event {
  int32_t type;
  int32_t a;
  int32_t b;
  double replies;
  std::string text;
};

class Core {
 public:
  Core(napi_env env, uv_loop_t* loop, napi_value callback, size_t max_value, uint32_t max_clients)
      : env_(env), loop_(loop), max_value_(max_value), max_clients_(max_clients) {
    napi_create_reference(env, callback, 1, &callback_);
    napi_value name;
    napi_create_string_utf8(env, "memcache-ha-native proxy", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, nullptr, name, &context_);
    uv_check_init(loop, &check_);
    check_.data = this;
    uv_check_start(&check_, on_check);
    uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
    uv_idle_init(loop, &idle_);
    idle_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&idle_));
    uv_timer_init(loop, &later_timer_);
    later_timer_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&later_timer_));
    open_ = 3;
  }

  void add_node(const sockaddr_storage& addr, size_t lanes) {
    Node n;
    n.addr = addr;
    n.conns.assign(std::max<size_t>(lanes, 1), nullptr);
    nodes_.push_back(n);
  }

  void set_points(const uint32_t* values, size_t n) { points_.assign(values, values + n); }

  // cand: kCandidates node indexes per point (-1 pads), home: the home node per point, up: per node.
  void set_routes(const int16_t* cand, const int16_t* home, const uint8_t* up) {
    size_t points = points_.size();
    cand_.assign(cand, cand + points * kCandidates);
    home_.assign(home, home + points);
    for (size_t i = 0; i < nodes_.size(); i++) {
      bool now = up[i] != 0;
      Node& n = nodes_[i];
      if (n.up && !now) {
        // Out: its connections close, and what waited on them is retried elsewhere.
        for (BackendConn* c : n.conns)
          if (c) c->close("closed by the proxy", CloseReason::ByOwner);
      }
      n.up = now;
    }
  }

  int listen(const std::string& host, uint32_t port, std::string& bound_host, uint32_t& bound_port) {
    sockaddr_storage addr;
    int rc = parse_address(host, port, addr);
    if (rc != 0) return rc;
    uv_tcp_init(loop_, &listener_);
    listener_.data = this;
    open_++;
    listening_ = true;
    rc = uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&addr), 0);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, on_connection);
    if (rc != 0) {
      close_listener();
      return rc;
    }
    bound_address(&listener_, bound_host, bound_port);
    return 0;
  }

  // Fails every backend connection whose oldest request waited longer than timeout_ms.
  void check_timeouts(uint64_t timeout_ms) {
    uint64_t now = uv_hrtime();
    std::string why = "no reply within " + std::to_string(timeout_ms) + " ms";
    for (Node& n : nodes_)
      for (BackendConn* c : n.conns) {
        if (!c || c->closed()) continue;
        uint64_t oldest = c->oldest_sent();
        if (oldest != 0 && now - oldest > timeout_ms * 1000000) c->close(why.c_str(), CloseReason::Timeout);
      }
  }

  void set_other_clients(uint32_t n) { other_clients_ = n; }

  void stats(std::vector<double>& out) {
    counters_[kCurrConnections] = static_cast<double>(clients_.size());
    out.assign(counters_, counters_ + kCounters);
    for (const Node& n : nodes_) out.insert(out.end(), n.counters, n.counters + kNodeCounters);
  }

  void reset_stats() {
    for (int i = kRequests; i < kCounters; i++) counters_[i] = 0;
    for (Node& n : nodes_) std::fill(n.counters, n.counters + kNodeCounters, 0.0);
  }

  // Closes everything; frees itself once every handle and connection is closed.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    napi_delete_reference(env_, callback_);
    napi_async_destroy(env_, context_);
    callback_ = nullptr;
    // Clients on their way to the TypeScript path are dropped with the rest.
    for (const Event& e : events_)
      if (e.type == kEventHandoff) ::close(e.a);
    events_.clear();
    close_listener();
    std::vector<Client*> all;
    for (auto& kv : clients_) all.push_back(kv.second);
    for (Client* c : all) close_client(c);
    for (Node& n : nodes_)
      for (BackendConn* c : n.conns)
        if (c) c->close("the proxy stops", CloseReason::ByOwner);
    uv_close(reinterpret_cast<uv_handle_t*>(&check_), on_handle_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&idle_), on_handle_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&later_timer_), on_handle_closed);
  }

 private:
  // ---- clients ----

  static void on_connection(uv_stream_t* server, int status) {
    auto* core = static_cast<Core*>(server->data);
    if (status < 0 || core->stopping_) return;  // EMFILE and the like: the next one may fare better
    auto* c = new Client();
    c->core = core;
    uv_tcp_init(core->loop_, &c->handle);
    c->handle.data = c;
    core->open_++;
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->handle)) != 0 ||
        (core->max_clients_ > 0 && core->clients_.size() + core->other_clients_ >= core->max_clients_)) {
      // Over -n, as net.Server does: closed at once.
      c->closing = true;
      uv_close(reinterpret_cast<uv_handle_t*>(&c->handle), on_client_closed);
      return;
    }
    uv_tcp_nodelay(&c->handle, 1);
    c->id = core->next_id_++;
    c->lane = core->next_lane_++;
    c->ring.resize(16);
    core->clients_[c->id] = c;
    core->counters_[kTotalConnections]++;
    core->update_reading(c);
  }

  Client* find(uint32_t id) {
    auto it = clients_.find(id);
    return it == clients_.end() ? nullptr : it->second;
  }

  static size_t unsent(const Client* c) { return c->out.size() + c->inflight.size(); }

  // Whether a client may send more: few enough replies owed and output unsent.
  static bool within_bounds(const Client* c) { return c->count < kMaxInFlight && unsent(c) < kOutputHighWater; }

  void update_reading(Client* c) {
    if (c->closing) return;
    bool want = !c->eof && !c->handoff && within_bounds(c);
    if (want == c->reading) return;
    if (want) {
      c->reading = uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle), on_alloc, on_read) == 0;
    } else {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->handle));
      c->reading = false;
    }
  }

  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* c = static_cast<Client*>(h->data);
    buf->base = c->core->read_buf_;
    buf->len = sizeof(c->core->read_buf_);
  }

  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
    auto* c = static_cast<Client*>(s->data);
    Core* core = c->core;
    if (c->closing) return;
    if (nread < 0) {
      if (nread != UV_EOF) return core->close_client(c);
      // The client shut its side: every reply owed still goes out, then the connection ends.
      c->eof = true;
      core->update_reading(c);
      core->mark_dirty(c);
      return;
    }
    if (nread == 0) return;
    size_t n = static_cast<size_t>(nread);
    if (c->in_off == c->in.size()) {
      // Nothing held back: frame straight from the read buffer, keep only an incomplete tail.
      c->in.clear();
      c->in_off = 0;
      size_t off = core->process(c, buf->base, n, 0);
      if (off < n) c->in.assign(buf->base + off, n - off);
    } else {
      c->in.append(buf->base, n);
      core->process_held(c);
    }
    core->update_reading(c);
  }

  void process_held(Client* c) {
    c->in_off = process(c, c->in.data(), c->in.size(), c->in_off);
    if (c->in_off == c->in.size()) {
      c->in.clear();
      c->in_off = 0;
    } else if (c->in_off > kReadSize) {
      c->in.erase(0, c->in_off);
      c->in_off = 0;
    }
  }

  // Forwards the plain requests in p[off, n); returns where framing stopped.
  size_t process(Client* c, const char* p, size_t n, size_t off) {
    PlainRequest r;
    while (off < n && !c->closing && !c->handoff && !stopping_) {
      if (!within_bounds(c)) break;
      Framed f = frame_plain(p, n, off, static_cast<int64_t>(max_value_), true, true, true, req_, r);
      if (f == Framed::NeedMore) break;
      if (f == Framed::Other) {
        // The TypeScript path takes this connection from this request on, once the replies
        // owed before it went out.
        c->handoff = true;
        mark_dirty(c);
        break;
      }
      forward(c, p, r);
      off = r.end;
    }
    return off;
  }

  uint32_t point_of(uint32_t hash) const {
    auto it = std::lower_bound(points_.begin(), points_.end(), hash);
    return it == points_.end() ? 0 : static_cast<uint32_t>(it - points_.begin());
  }

  void forward(Client* c, const char* p, const PlainRequest& r) {
    counters_[kRequests]++;
    if (r.kind == kFrameGet) {
      counters_[kCmdGet] += static_cast<double>(req_.keys.size());
      if (req_.touch) counters_[kCmdTouch] += static_cast<double>(req_.keys.size());
    } else if (r.kind == kFrameSet || r.kind == kFrameStoreOther) {
      counters_[kCmdSet]++;
    } else if (r.kind == kFrameTouch) {
      counters_[kCmdTouch]++;
    }
    if (c->count == c->ring.size()) grow(c);
    uint32_t seq = c->head_seq + c->count++;
    Slot& s = c->at(seq);
    Unit& u = s.unit;
    if (r.cut == 0) {
      u.req.assign(p + r.start, r.end - r.start);
    } else {
      u.req.assign(p + r.start, r.cut - r.start);
      u.req.append("\r\n", 2);
      u.req.append(p + r.rest, r.end - r.rest);
    }
    s.silent = r.cut != 0;
    s.done = false;
    u.kind = r.kind;
    u.point = point_of(r.hash);
    u.ntried = 0;
    if (r.kind == kFrameGet && req_.keys.size() > 1) return forward_keys(c, seq);
    route(c, seq, 0);
  }

  // A get, gets, gat or gats of several keys: forwarded whole when every key's first node is
  // the same now, else split, one request per node, sent at once.
  void forward_keys(Client* c, uint32_t seq) {
    Slot& s = c->at(seq);
    key_points_.assign(1, s.unit.point);  // the first key's, hashed by the framer
    for (size_t i = 1; i < req_.keys.size(); i++) key_points_.push_back(point_of(key_hash(req_.keys[i].data(), req_.keys[i].size())));
    auto first_node = [this](uint32_t point) { return cand_.empty() ? -1 : cand_[point * kCandidates]; };
    int node0 = first_node(key_points_[0]);
    bool one = node0 >= 0;
    for (size_t i = 1; one && i < key_points_.size(); i++) one = first_node(key_points_[i]) == node0;
    if (one) return route(c, seq, 0);
    // The parts' command: get, gets, or gat/gats with the request's expiry.
    std::string verb = req_.touch ? (req_.with_cas ? "gats " : "gat ") + std::to_string(req_.exptime) : req_.with_cas ? "gets" : "get";
    s.keys.assign(req_.keys.begin(), req_.keys.end());
    s.parts.clear();
    std::vector<int> part_node;
    for (uint32_t i = 0; i < s.keys.size(); i++) {
      int node = first_node(key_points_[i]);
      size_t at = std::find(part_node.begin(), part_node.end(), node) - part_node.begin();
      if (at == part_node.size()) {
        part_node.push_back(node);
        s.parts.emplace_back();
        Unit& u = s.parts.back().unit;
        u.kind = kFrameGet;
        u.point = key_points_[i];  // a part is routed (and retried) by its first key
        u.req = verb;
      }
      Part& part = s.parts[at];
      part.keys.push_back(i);
      part.unit.req += ' ';
      part.unit.req += s.keys[i];
    }
    s.unit.req.clear();
    s.parts_left = static_cast<uint32_t>(s.parts.size());
    // Every part exists before any is sent: a part may complete at once (no node for it).
    for (Part& part : s.parts) part.unit.req += "\r\n";
    for (uint32_t i = 0; i < s.parts.size(); i++) route(c, seq, i + 1);
  }

  void grow(Client* c) {
    std::vector<Slot> bigger(c->ring.size() * 2);
    for (uint32_t i = 0; i < c->count; i++) {
      uint32_t seq = c->head_seq + i;
      bigger[seq & (bigger.size() - 1)] = std::move(c->at(seq));
    }
    c->ring.swap(bigger);
  }

  int pick(const Unit& u) const {
    if (cand_.empty()) return -1;
    for (int i = 0; i < kCandidates; i++) {
      int n = cand_[u.point * kCandidates + i];
      if (n < 0) break;
      if (!nodes_[n].up || std::find(u.tried, u.tried + u.ntried, n) != u.tried + u.ntried) continue;
      return n;
    }
    return -1;
  }

  static Unit& unit_of(Slot& s, uint32_t part) { return part == 0 ? s.unit : s.parts[part - 1].unit; }

  // Sends (or resends) a request (or one part of a split get) to the node its key routes to now.
  void route(Client* c, uint32_t seq, uint32_t part) {
    Unit& u = unit_of(c->at(seq), part);
    int node = pick(u);
    if (node < 0) {
      counters_[kServerErrors]++;
      return answer(c, seq, part, kUnavailable.data(), kUnavailable.size());
    }
    if (u.ntried == 0 && home_[u.point] != node) {
      counters_[kFailovers]++;
      nodes_[home_[u.point]].counters[1]++;
    }
    counters_[kForwarded]++;
    Node& n = nodes_[node];
    n.counters[0]++;
    BackendConn*& conn = n.conns[c->lane % n.conns.size()];
    if (!conn || conn->closed()) conn = open_conn(node, c->lane % n.conns.size());
    work();
    BackendRequest br{(static_cast<uint64_t>(c->id) << 32) | seq, shape_of(u.kind), uv_hrtime(), part};
    if (!conn->send(u.req.data(), u.req.size(), br)) retry(c, seq, part, node, Failure::Overload);
  }

  void retry(Client* c, uint32_t seq, uint32_t part, int node, Failure why) {
    Unit& u = unit_of(c->at(seq), part);
    if (retryable(u.kind)) {
      u.tried[u.ntried++] = static_cast<int16_t>(node);
      if (u.ntried < kMaxTries) {
        counters_[kRetries]++;
        return route(c, seq, part);
      }
    }
    counters_[kServerErrors]++;
    const std::string& reply = failure_reply(why);
    answer(c, seq, part, reply.data(), reply.size());
  }

  // The reply to a request, or to one part of a split get (the slot completes with the last).
  void answer(Client* c, uint32_t seq, uint32_t part, const char* p, size_t n) {
    if (part == 0) return complete(c, seq, p, n);
    Slot& s = c->at(seq);
    Part& pt = s.parts[part - 1];
    pt.reply.assign(p, n);
    pt.done = true;
    if (--s.parts_left > 0) return;
    std::string merged;
    merge_get(s, merged);
    s.parts.clear();
    s.keys.clear();
    complete(c, seq, merged.data(), merged.size());
  }

  void complete(Client* c, uint32_t seq, const char* p, size_t n) {
    Slot& s = c->at(seq);
    if (s.silent) s.out.clear();
    else s.out.assign(p, n);
    s.done = true;
    s.unit.req.clear();
    // The head's reply can go; a client holding replies back may now have its whole batch.
    if (seq == c->head_seq || c->later) mark_dirty(c);
  }

  // The slot a backend reply or failure is for, or null (its client is gone, or it was answered).
  Slot* slot_for(const BackendRequest& r, Client*& c, uint32_t& seq) {
    c = find(static_cast<uint32_t>(r.token >> 32));
    if (!c || c->closing) return nullptr;
    seq = static_cast<uint32_t>(r.token);
    if (seq - c->head_seq >= c->count) return nullptr;
    Slot& s = c->at(seq);
    if (s.done) return nullptr;
    if (r.part > 0 && (r.part > s.parts.size() || s.parts[r.part - 1].done)) return nullptr;
    return &s;
  }

  void mark_dirty(Client* c) {
    if (!c->dirty) {
      c->dirty = true;
      dirty_.push_back(c->id);
    }
    work();
  }

  // Sends the replies ready at the head of the order, in one writev. While later replies of a
  // pipelined batch are on their way, small output waits for them (see kLaterMs) unless `force`.
  void flush(Client* c, bool force = false) {
    if (c->closing) return;
    uint32_t n = 0;
    size_t ready = 0;
    while (n < c->count && c->at(c->head_seq + n).done) ready += c->at(c->head_seq + n++).out.size();
    if (n > 0 && n < c->count && !force && ready < kEarlyFlush) {
      if (!c->later) {
        c->later = true;
        later_.push_back(c->id);
        if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&later_timer_))) uv_timer_start(&later_timer_, on_later, kLaterMs, 0);
      }
      return;
    }
    if (n > 0) {
      size_t done = 0;
      if (!c->writing && c->out.empty()) {
        // Straight from the slots; what the kernel does not take is copied to out.
        uint32_t k = std::min<uint32_t>(n, kMaxIov);
        iov_.resize(k);
        size_t total = 0;
        for (uint32_t i = 0; i < k; i++) {
          Slot& s = c->at(c->head_seq + i);
          iov_[i] = uv_buf_init(s.out.data(), static_cast<unsigned>(s.out.size()));
          total += s.out.size();
        }
        int w = total == 0 ? 0 : uv_try_write(reinterpret_cast<uv_stream_t*>(&c->handle), iov_.data(), k);
        if (w < 0 && w != UV_EAGAIN) return close_client(c);
        done = w > 0 ? static_cast<size_t>(w) : 0;
        if (done > total) done = total;
      }
      for (uint32_t i = 0; i < n; i++) {
        Slot& s = c->at(c->head_seq + i);
        if (done >= s.out.size()) {
          done -= s.out.size();
        } else {
          c->out.append(s.out, done, std::string::npos);
          done = 0;
        }
        s.done = false;
        if (s.out.capacity() > kKeepCapacity) std::string().swap(s.out);
        else s.out.clear();
        if (s.unit.req.capacity() > kKeepCapacity) std::string().swap(s.unit.req);
      }
      c->head_seq += n;
      c->count -= n;
      kick_write(c);
      if (c->closing) return;
    }
    maybe_finish(c);
  }

  void kick_write(Client* c) {
    if (c->writing || c->out.empty() || c->closing) return;
    c->inflight.swap(c->out);
    c->out.clear();
    uv_buf_t b = uv_buf_init(c->inflight.data(), static_cast<unsigned>(c->inflight.size()));
    c->write_req.data = c;
    c->writing = true;
    if (uv_write(&c->write_req, reinterpret_cast<uv_stream_t*>(&c->handle), &b, 1, on_write) != 0) {
      c->writing = false;
      close_client(c);
    }
  }

  static void on_write(uv_write_t* req, int status) {
    auto* c = static_cast<Client*>(req->data);
    c->writing = false;
    c->inflight.clear();
    if (c->closing) return;
    if (status < 0) return c->core->close_client(c);
    c->core->kick_write(c);
    c->core->maybe_finish(c);
  }

  // After output moved: hand over, end, or read again when the bounds allow.
  void maybe_finish(Client* c) {
    if (c->closing) return;
    if (c->handoff && c->idle()) return handoff(c);
    if (c->eof && c->idle()) return close_client(c);
    if (!c->reading && !c->handoff && !c->eof && within_bounds(c)) {
      process_held(c);
      update_reading(c);
    }
  }

  // Gives the connection to TypeScript: a duplicate of its descriptor and its unread input.
  void handoff(Client* c) {
    int fd = -1;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->handle), &fd) == 0) fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0 && !stopping_) {
      counters_[kHandoffs]++;
      Event e{kEventHandoff, fd, static_cast<int32_t>(c->lane), 0, c->in.substr(c->in_off)};
      events_.push_back(std::move(e));
      work();
    } else if (fd >= 0) {
      ::close(fd);
    }
    close_client(c);
  }

  void close_client(Client* c) {
    if (c->closing) return;
    c->closing = true;
    clients_.erase(c->id);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->handle), on_client_closed);
  }

  static void on_client_closed(uv_handle_t* h) {
    auto* c = static_cast<Client*>(h->data);
    Core* core = c->core;
    delete c;
    core->handle_closed();
  }

  // ---- backends ----

  BackendConn* open_conn(int node, size_t lane) {
    BackendConn::Callbacks cb;
    cb.reply = [this, node](BackendConn*, const BackendRequest& r, const char* p, size_t n) { on_reply(node, r, p, n); };
    cb.failed = [this, node, lane](BackendConn* conn, std::vector<BackendRequest>&& waiting, const char* why, CloseReason reason) {
      on_failed(node, lane, conn, std::move(waiting), why, reason);
    };
    open_++;
    return BackendConn::open(loop_, reinterpret_cast<const sockaddr*>(&nodes_[node].addr), max_value_, kBackendMaxUnsent, std::move(cb));
  }

  void on_reply(int node, const BackendRequest& r, const char* p, size_t n) {
    Node& nd = nodes_[node];
    nd.replies++;
    uint64_t us = (uv_hrtime() - r.sent_ns) / 1000;
    int bucket = us <= 1 ? 0 : std::min(kLatencyBuckets - 1, 64 - __builtin_clzll(us - 1));
    nd.counters[2 + bucket]++;
    Client* c;
    uint32_t seq;
    if (slot_for(r, c, seq)) answer(c, seq, r.part, p, n);
  }

  void on_failed(int node, size_t lane, BackendConn* conn, std::vector<BackendRequest>&& waiting, const char* why, CloseReason reason) {
    Node& nd = nodes_[node];
    if (nd.conns[lane] == conn) nd.conns[lane] = nullptr;
    if (!stopping_) {
      if (reason != CloseReason::ByOwner) {
        events_.push_back(Event{kEventFailure, node, reason == CloseReason::Timeout ? 1 : 0, nd.replies, why});
        work();
      }
      Failure f = reason == CloseReason::Timeout ? Failure::Timeout : Failure::Connection;
      for (const BackendRequest& r : waiting) {
        Client* c;
        uint32_t seq;
        if (slot_for(r, c, seq)) retry(c, seq, r.part, node, f);
      }
    }
    handle_closed();
  }

  // ---- the loop ----

  // Work was queued (replies to flush, requests to send, events): the next poll must not block.
  void work() {
    work_ = true;
    if (!idle_active_ && !stopping_) {
      idle_active_ = true;
      uv_idle_start(&idle_, [](uv_idle_t*) {});
    }
  }

  // Flushes the clients listed in `ids` (emptied first: flushing may list clients again),
  // clearing the flag that listed each.
  void flush_listed(std::vector<uint32_t>& ids, bool Client::*listed, bool force) {
    std::vector<uint32_t> now;
    now.swap(ids);
    for (uint32_t id : now) {
      Client* c = find(id);
      if (!c) continue;
      c->*listed = false;
      flush(c, force);
    }
  }

  static void on_check(uv_check_t* h) {
    auto* core = static_cast<Core*>(h->data);
    core->work_ = false;
    core->flush_listed(core->dirty_, &Client::dirty, false);
    core->deliver_events();
    if (!core->work_ && core->idle_active_ && !core->stopping_) {
      core->idle_active_ = false;
      uv_idle_stop(&core->idle_);
    }
  }

  static void on_later(uv_timer_t* t) {
    auto* core = static_cast<Core*>(t->data);
    core->flush_listed(core->later_, &Client::later, true);
  }

  void deliver_events() {
    while (!events_.empty() && callback_) {
      Event e = std::move(events_.front());
      events_.pop_front();
      napi_handle_scope scope;
      if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
      napi_value argv[4];
      napi_create_int32(env_, e.type, &argv[0]);
      napi_create_int32(env_, e.a, &argv[1]);
      napi_create_int32(env_, e.b, &argv[2]);
      if (e.type == kEventFailure) {
        napi_value msg, replies, pair;
        napi_create_string_utf8(env_, e.text.data(), e.text.size(), &msg);
        napi_create_double(env_, e.replies, &replies);
        napi_create_array_with_length(env_, 2, &pair);
        napi_set_element(env_, pair, 0, msg);
        napi_set_element(env_, pair, 1, replies);
        argv[3] = pair;
      } else {
        void* copy = nullptr;
        napi_create_buffer_copy(env_, e.text.size(), e.text.data(), &copy, &argv[3]);
      }
      call_from_loop(env_, context_, callback_, 4, argv);
      napi_close_handle_scope(env_, scope);
      if (stopping_) break;  // the callback stopped the proxy
    }
  }

  void close_listener() {
    if (!listening_) return;
    listening_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), on_handle_closed);
  }

  static void on_handle_closed(uv_handle_t* h) { static_cast<Core*>(h->data)->handle_closed(); }

  void handle_closed() {
    if (--open_ == 0 && stopping_) delete this;
  }

  napi_env env_;
  uv_loop_t* loop_;
  napi_ref callback_ = nullptr;
  napi_async_context context_ = nullptr;
  uv_check_t check_;
  uv_idle_t idle_;
  uv_timer_t later_timer_;
  std::vector<uint32_t> later_;
  uv_tcp_t listener_;
  bool listening_ = false;
  bool idle_active_ = false;
  bool work_ = false;
  bool stopping_ = false;
  int open_ = 0;  // handles and backend connections still open
  size_t max_value_;
  uint32_t max_clients_;
  uint32_t other_clients_ = 0;
  uint32_t next_id_ = 1;
  uint32_t next_lane_ = 0;
  std::unordered_map<uint32_t, Client*> clients_;
  std::vector<uint32_t> dirty_;
  std::deque<Event> events_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> points_;
  std::vector<int16_t> cand_;
  std::vector<int16_t> home_;
  std::vector<uv_buf_t> iov_;
  std::vector<uint32_t> key_points_;  // forward_keys: each key's ring point
  double counters_[kCounters] = {};
  Request req_;
  char read_buf_[kReadSize];
};

// new ProxyCore({maxValue, maxClients, connectionsPerNode, nodes: [{host, port}], points: Uint32Array},
//               onEvent(type, a, b, detail)): 1 = a node failed (node, timeout?, [message, replies]),
// 2 = a client for the TypeScript path (fd, lane, unread bytes).
class ProxyCoreWrap : public Napi::ObjectWrap<ProxyCoreWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "ProxyCore",
                                     {InstanceMethod("listen", &ProxyCoreWrap::Listen), InstanceMethod("setRoutes", &ProxyCoreWrap::SetRoutes),
                                      InstanceMethod("checkTimeouts", &ProxyCoreWrap::CheckTimeouts),
                                      InstanceMethod("setOtherClients", &ProxyCoreWrap::SetOtherClients),
                                      InstanceMethod("stats", &ProxyCoreWrap::Stats), InstanceMethod("resetStats", &ProxyCoreWrap::ResetStats),
                                      InstanceMethod("stop", &ProxyCoreWrap::Stop)});
    exports.Set("ProxyCore", cls);
  }

  explicit ProxyCoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProxyCoreWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "ProxyCore(settings, onEvent)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value nodes = o.Get("nodes");
    Napi::Value points = o.Get("points");
    if (!nodes.IsArray() || !points.IsTypedArray() || points.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      Napi::TypeError::New(env, "ProxyCore: nodes (array) and points (Uint32Array)").ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto* core = new Core(env, loop, info[1], static_cast<size_t>(o.Get("maxValue").ToNumber().Int64Value()),
                          o.Get("maxClients").ToNumber().Uint32Value());
    size_t lanes = o.Get("connectionsPerNode").ToNumber().Uint32Value();
    Napi::Array list = nodes.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Object n = list.Get(i).As<Napi::Object>();
      std::string host = n.Get("host").ToString().Utf8Value();
      sockaddr_storage addr;
      if (parse_address(host, n.Get("port").ToNumber().Uint32Value(), addr) != 0) {
        core->stop();
        Napi::TypeError::New(env, "ProxyCore: not a numeric address: " + host).ThrowAsJavaScriptException();
        return;
      }
      core->add_node(addr, lanes);
    }
    Napi::Uint32Array p = points.As<Napi::Uint32Array>();
    core->set_points(p.Data(), p.ElementLength());
    core_ = core;
    nodes_ = list.Length();
    points_ = p.ElementLength();
  }

  ~ProxyCoreWrap() override {
    if (core_) core_->stop();
  }

 private:
  bool live(const Napi::CallbackInfo& info) {
    if (core_) return true;
    Napi::Error::New(info.Env(), "the proxy core is stopped").ThrowAsJavaScriptException();
    return false;
  }

  // listen(host, port) -> {host, port}; throws an Error with a libuv `code`.
  Napi::Value Listen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    std::string host;
    uint32_t port = 0;
    int rc = core_->listen(info[0].ToString().Utf8Value(), info[1].ToNumber().Uint32Value(), host, port);
    return listen_result(env, rc, host, port);
  }

  // setRoutes(candidates: Int16Array (4 per point), home: Int16Array (1 per point), up: Uint8Array (1 per node))
  Napi::Value SetRoutes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
      Napi::TypeError::New(env, "setRoutes(candidates, home, up)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto cand = info[0].As<Napi::TypedArray>();
    auto home = info[1].As<Napi::TypedArray>();
    auto up = info[2].As<Napi::TypedArray>();
    if (cand.TypedArrayType() != napi_int16_array || home.TypedArrayType() != napi_int16_array || up.TypedArrayType() != napi_uint8_array ||
        cand.ElementLength() != points_ * kCandidates || home.ElementLength() != points_ || up.ElementLength() != nodes_) {
      Napi::RangeError::New(env, "setRoutes: Int16Array(4 x points), Int16Array(points), Uint8Array(nodes)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int16_t* c = cand.As<Napi::Int16Array>().Data();
    const int16_t* h = home.As<Napi::Int16Array>().Data();
    for (size_t i = 0; i < points_ * kCandidates; i++)
      if (c[i] >= static_cast<int64_t>(nodes_)) return RangeError(env);
    for (size_t i = 0; i < points_; i++)
      if (h[i] < 0 || h[i] >= static_cast<int64_t>(nodes_)) return RangeError(env);
    core_->set_routes(c, h, up.As<Napi::Uint8Array>().Data());
    return env.Undefined();
  }

  Napi::Value RangeError(Napi::Env env) {
    Napi::RangeError::New(env, "setRoutes: a node index out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Value CheckTimeouts(const Napi::CallbackInfo& info) {
    if (core_) core_->check_timeouts(static_cast<uint64_t>(info[0].ToNumber().Int64Value()));
    return info.Env().Undefined();
  }

  Napi::Value SetOtherClients(const Napi::CallbackInfo& info) {
    if (core_) core_->set_other_clients(info[0].ToNumber().Uint32Value());
    return info.Env().Undefined();
  }

  // stats(): Float64Array: the proxy counters, then per node: requests, failovers, 32 latency buckets.
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    std::vector<double> v;
    core_->stats(v);
    Napi::Float64Array out = Napi::Float64Array::New(env, v.size());
    std::copy(v.begin(), v.end(), out.Data());
    return out;
  }

  Napi::Value ResetStats(const Napi::CallbackInfo& info) {
    if (core_) core_->reset_stats();
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (core_) core_->stop();
    core_ = nullptr;
    return info.Env().Undefined();
  }

  Core* core_ = nullptr;
  size_t nodes_ = 0;
  size_t points_ = 0;
};

}  // namespace

void register_proxy_core(Napi::Env env, Napi::Object exports) { ProxyCoreWrap::Init(env, exports); }

}  // namespace mcha
