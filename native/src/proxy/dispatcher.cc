// Routing and retries on the proxy's C++ data path: each request (or part of a split
// multi-get) goes to the first candidate of its key's ring point that is up and not tried yet.
// Mirrors src/proxy/dispatcher.ts.
#include <algorithm>
#include <cstring>
#include <string>

#include "proxy/merge.h"
#include "proxy/proxy_core.h"

namespace mcha {
namespace {

const std::string kUnavailable = "SERVER_ERROR backend unavailable\r\n";
const std::string kTimeout = "SERVER_ERROR backend timeout\r\n";
const std::string kLost = "SERVER_ERROR backend connection lost\r\n";
const std::string kBusy = "SERVER_ERROR backend overloaded\r\n";
const std::string kMn = "MN\r\n";
const char kFence[] = "mn\r\n";

bool retryable(int32_t kind) {
  return kind == kFrameGet || kind == kFrameSet || kind == kFrameDelete || kind == kFrameTouch || kind == kFrameMeta || kind == kFrameBinary;
}
bool is_binary(int32_t kind) { return kind == kFrameBinary || kind == kFrameBinaryOnce; }
ReplyShape shape_of(const RequestUnit& u) {
  if (is_binary(u.kind)) return ReplyShape::Binary;
  if (u.kind == kFrameMeta || u.kind == kFrameMetaOnce) return u.fence ? ReplyShape::MetaFenced : ReplyShape::Meta;
  return u.kind == kFrameGet ? ReplyShape::Values : ReplyShape::Line;
}
const std::string& failure_reply(ForwardFailure f) {
  return f == ForwardFailure::Timeout ? kTimeout : f == ForwardFailure::Overload ? kBusy : kLost;
}

}  // namespace

uint32_t ProxyCore::point_of(uint32_t hash) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), hash);
  return it == points_.end() ? 0 : static_cast<uint32_t>(it - points_.begin());
}

// The next reply slot of a connection, in request order: a plain one that waits for its reply.
uint32_t ProxyCore::new_slot(ClientConnection* c) {
  if (c->count == c->ring.size()) grow(c);
  uint32_t seq = c->head_seq + c->count++;
  ReplySlot& s = c->at(seq);
  s.silent = false;
  s.quiet = 0;
  s.done = false;
  s.binary = false;
  return seq;
}

void ProxyCore::forward(ClientConnection* c, const char* p, const PlainRequest& r) {
  counters_[kRequests]++;
  if (r.kind == kFrameGet) {
    counters_[kCmdGet] += static_cast<double>(req_.keys.size());
    if (req_.touch) counters_[kCmdTouch] += static_cast<double>(req_.keys.size());
  } else if (r.kind == kFrameSet || r.kind == kFrameStoreOther) {
    counters_[kCmdSet]++;
  } else if (r.kind == kFrameTouch) {
    counters_[kCmdTouch]++;
  } else if (r.meta == 'g') {
    counters_[r.meta_ttl ? kCmdTouch : kCmdGet]++;
  } else if (r.meta == 's') {
    counters_[kCmdSet]++;
  }
  uint32_t seq = new_slot(c);
  ReplySlot& s = c->at(seq);
  RequestUnit& u = s.unit;
  s.silent = r.silent;
  s.quiet = r.quiet;
  // mn: every reply owed before it leaves first, since replies leave in request order.
  if (r.kind == kFrameMn) return complete(c, seq, kMn.data(), kMn.size());
  if (r.cut == 0) {
    u.req.assign(p + r.start, r.end - r.start);
  } else {
    u.req.assign(p + r.start, r.cut - r.start);
    u.req.append(p + r.rest, r.end - r.rest);
  }
  if (r.fence) u.req.append(kFence, sizeof(kFence) - 1);
  u.fence = r.fence;
  u.kind = r.kind;
  u.hash = r.hash;
  u.ntried = 0;
  if (r.kind == kFrameGet && req_.keys.size() > 1) return forward_keys(c, seq);
  route(c, seq, 0);
}

// A keyed binary request: one slot, sent on the node's binary connection with its loud opcode
// and the body length memcached consumes; complete() gives the reply the client's opcode.
void ProxyCore::forward_binary(ClientConnection* c, const char* p, const BinaryRequest& r) {
  counters_[kRequests]++;
  using namespace binary;
  switch (r.loud) {
    case kGet: case kGetK: counters_[kCmdGet]++; break;
    case kGat: case kGatK: counters_[kCmdGet]++; counters_[kCmdTouch]++; break;
    case kTouch: counters_[kCmdTouch]++; break;
    case kSet: case kAdd: case kReplace: case kAppend: case kPrepend: counters_[kCmdSet]++; break;
    default: break;
  }
  uint32_t seq = new_slot(c);
  ReplySlot& s = c->at(seq);
  s.binary = true;
  s.binary_quiet = r.quiet;
  s.binary_opcode = r.opcode;
  std::memcpy(s.binary_opaque, p + r.start + 12, 4);
  RequestUnit& u = s.unit;
  u.req.assign(p + r.start, r.end - r.start);
  u.req[1] = static_cast<char>(r.loud);
  u.req[8] = static_cast<char>(r.body >> 24);
  u.req[9] = static_cast<char>(r.body >> 16);
  u.req[10] = static_cast<char>(r.body >> 8);
  u.req[11] = static_cast<char>(r.body);
  u.fence = false;
  u.kind = r.retryable ? kFrameBinary : kFrameBinaryOnce;
  u.hash = r.hash;
  u.ntried = 0;
  route(c, seq, 0);
}

// A binary noop: answered here, after every earlier reply (replies leave in request order).
void ProxyCore::answer_noop(ClientConnection* c, const char* p, const BinaryRequest& r) {
  counters_[kRequests]++;
  uint32_t seq = new_slot(c);
  char reply[binary::kHeaderLength] = {};
  reply[0] = static_cast<char>(binary::kResponseMagic);
  reply[1] = static_cast<char>(r.opcode);
  std::memcpy(reply + 12, p + r.start + 12, 4);
  complete(c, seq, reply, sizeof(reply));
}

// A get, gets, gat or gats of several keys: forwarded whole when every key's first node is
// the same now, else split, one request per node, sent at once.
void ProxyCore::forward_keys(ClientConnection* c, uint32_t seq) {
  ReplySlot& s = c->at(seq);
  key_hashes_.assign(1, s.unit.hash);  // the first key's, hashed by the framer
  for (size_t i = 1; i < req_.keys.size(); i++) key_hashes_.push_back(key_hash(req_.keys[i].data(), req_.keys[i].size()));
  // Each key's first node now, looked up once: it decides both whether to split and the parts.
  key_nodes_.clear();
  for (uint32_t h : key_hashes_) key_nodes_.push_back(cand_.empty() ? -1 : cand_[point_of(h) * settings_.candidates]);
  int node0 = key_nodes_[0];
  bool one = node0 >= 0;
  for (size_t i = 1; one && i < key_nodes_.size(); i++) one = key_nodes_[i] == node0;
  if (one) return route(c, seq, 0);
  // The parts' command: get, gets, or gat/gats with the request's expiry.
  std::string verb = req_.touch ? (req_.with_cas ? "gats " : "gat ") + std::to_string(req_.exptime) : req_.with_cas ? "gets" : "get";
  s.keys.assign(req_.keys.begin(), req_.keys.end());
  s.parts.clear();
  std::vector<int> part_node;
  for (uint32_t i = 0; i < s.keys.size(); i++) {
    int node = key_nodes_[i];
    size_t at = std::find(part_node.begin(), part_node.end(), node) - part_node.begin();
    if (at == part_node.size()) {
      part_node.push_back(node);
      s.parts.emplace_back();
      RequestUnit& u = s.parts.back().unit;
      u.kind = kFrameGet;
      u.fence = false;
      u.hash = key_hashes_[i];  // a part is routed (and retried) by its first key
      u.req = verb;
    }
    SplitPart& part = s.parts[at];
    part.keys.push_back(i);
    part.unit.req += ' ';
    part.unit.req += s.keys[i];
  }
  s.unit.req.clear();
  s.parts_left = static_cast<uint32_t>(s.parts.size());
  // Every part exists before any is sent: a part may complete at once (no node for it).
  for (SplitPart& part : s.parts) part.unit.req += "\r\n";
  for (uint32_t i = 0; i < s.parts.size(); i++) route(c, seq, i + 1);
}

int ProxyCore::pick(const RequestUnit& u, uint32_t point) const {
  if (cand_.empty()) return -1;
  for (int i = 0; i < settings_.candidates; i++) {
    int n = cand_[point * settings_.candidates + i];
    if (n < 0) break;
    if (!nodes_[n].up || !nodes_[n].resolved || std::find(u.tried, u.tried + u.ntried, n) != u.tried + u.ntried) continue;
    return n;
  }
  return -1;
}

// Sends (or resends) a request (or one part of a split get) to the node its key routes to now:
// by the ring of now, which a reload may have replaced since the request was first sent.
void ProxyCore::route(ClientConnection* c, uint32_t seq, uint32_t part) {
  RequestUnit& u = unit_of(c->at(seq), part);
  uint32_t point = point_of(u.hash);
  int node = pick(u, point);
  if (node < 0) {
    counters_[kServerErrors]++;
    return answer(c, seq, part, kUnavailable.data(), kUnavailable.size());
  }
  if (u.ntried == 0 && home_[point] != node) {
    counters_[kFailovers]++;
    nodes_[home_[point]].counters[kNodeFailovers]++;
  }
  counters_[kForwarded]++;
  BackendNode& n = nodes_[node];
  n.counters[kNodeRequests]++;
  bool binary = is_binary(u.kind);
  std::vector<BackendConnection*>& conns = binary ? n.bconns : n.conns;
  BackendConnection*& conn = conns[c->lane % conns.size()];
  if (!conn || conn->closed()) conn = open_conn(node, c->lane % conns.size());
  work();
  BackendRequest br{(static_cast<uint64_t>(c->id) << 32) | seq, shape_of(u), uv_hrtime(), part};
  if (!conn->send(u.req.data(), u.req.size(), br)) retry(c, seq, part, node, ForwardFailure::Overload);
}

void ProxyCore::retry(ClientConnection* c, uint32_t seq, uint32_t part, int node, ForwardFailure why) {
  RequestUnit& u = unit_of(c->at(seq), part);
  if (retryable(u.kind)) {
    u.tried[u.ntried++] = static_cast<int16_t>(node);
    if (u.ntried < settings_.max_tries) {
      counters_[kRetries]++;
      return route(c, seq, part);
    }
  }
  counters_[kServerErrors]++;
  const std::string& reply = failure_reply(why);
  answer(c, seq, part, reply.data(), reply.size());
}

// The reply to a request, or to one part of a split get (the slot completes with the last).
void ProxyCore::answer(ClientConnection* c, uint32_t seq, uint32_t part, const char* p, size_t n) {
  if (part == 0) return complete(c, seq, p, n);
  ReplySlot& s = c->at(seq);
  SplitPart& pt = s.parts[part - 1];
  pt.reply.assign(p, n);
  pt.done = true;
  if (--s.parts_left > 0) return;
  std::string merged;
  merge_get(s, merged);
  s.parts.clear();
  s.keys.clear();
  complete(c, seq, merged.data(), merged.size());
}

// The slot a backend reply or failure is for, or null (its client is gone, or it was answered).
ReplySlot* ProxyCore::slot_for(const BackendRequest& r, ClientConnection*& c, uint32_t& seq) {
  c = find(static_cast<uint32_t>(r.token >> 32));
  if (!c || c->closing) return nullptr;
  seq = static_cast<uint32_t>(r.token);
  if (seq - c->head_seq >= c->count) return nullptr;
  ReplySlot& s = c->at(seq);
  if (s.done) return nullptr;
  if (r.part > 0 && (r.part > s.parts.size() || s.parts[r.part - 1].done)) return nullptr;
  return &s;
}

}  // namespace mcha
