// The nodes and the routing table of the proxy's C++ data path, and its backend connections'
// callbacks: replies go to their slots, a failed connection's requests are retried or failed.
#include <algorithm>
#include <string>

#include "proxy/proxy_core.h"

namespace mcha {

void ProxyCore::add_node(const sockaddr_storage* addr) {
  BackendNode n;
  if (addr) {
    n.addr = *addr;
    n.resolved = true;
  }
  n.conns.assign(std::max<size_t>(settings_.lanes, 1), nullptr);
  n.bconns.assign(n.conns.size(), nullptr);
  nodes_.push_back(n);
}

void ProxyCore::set_address(size_t node, const sockaddr_storage& addr) {
  BackendNode& n = nodes_[node];
  n.addr = addr;
  n.resolved = true;
}

void ProxyCore::set_points(const uint32_t* values, size_t n) { points_.assign(values, values + n); }

void ProxyCore::set_routes(const int16_t* cand, const int16_t* home, const uint8_t* up) {
  size_t points = points_.size();
  cand_.assign(cand, cand + points * settings_.candidates);
  home_.assign(home, home + points);
  for (size_t i = 0; i < nodes_.size(); i++) {
    bool now = up[i] != 0;
    BackendNode& n = nodes_[i];
    if (n.up && !now) {
      // Out: its connections close, and what waited on them is retried elsewhere.
      for (auto* list : {&n.conns, &n.bconns})
        for (BackendConnection* c : *list)
          if (c) c->close("closed by the proxy", CloseReason::ByOwner);
    }
    n.up = now;
  }
}

void ProxyCore::check_timeouts(uint64_t timeout_ms) {
  uint64_t now = uv_hrtime();
  std::string why = "no reply within " + std::to_string(timeout_ms) + " ms";
  for (BackendNode& n : nodes_)
    for (auto* list : {&n.conns, &n.bconns})
      for (BackendConnection* c : *list) {
        if (!c || c->closed()) continue;
        uint64_t oldest = c->oldest_sent();
        if (oldest != 0 && now - oldest > timeout_ms * 1000000) c->close(why.c_str(), CloseReason::Timeout);
      }
}

BackendConnection* ProxyCore::open_conn(int node, size_t lane) {
  BackendConnection::Callbacks cb;
  cb.reply = [this, node](BackendConnection*, const BackendRequest& r, const char* p, size_t n) { on_reply(node, r, p, n); };
  cb.failed = [this, node, lane](BackendConnection* conn, std::vector<BackendRequest>&& waiting, const char* why, CloseReason reason) {
    on_failed(node, lane, conn, std::move(waiting), why, reason);
  };
  open_++;
  return BackendConnection::open(loop_, reinterpret_cast<const sockaddr*>(&nodes_[node].addr), settings_.max_value, settings_.backend_max_unsent, std::move(cb));
}

void ProxyCore::on_reply(int node, const BackendRequest& r, const char* p, size_t n) {
  BackendNode& nd = nodes_[node];
  nd.replies++;
  uint64_t us = (uv_hrtime() - r.sent_ns) / 1000;
  int bucket = us <= 1 ? 0 : std::min(kLatencyBuckets - 1, 64 - __builtin_clzll(us - 1));
  nd.counters[kNodeLatency + bucket]++;
  nd.counters[kNodeLatencySumUs] += us;
  ClientConnection* c;
  uint32_t seq;
  // A fenced meta reply ends in the MN of the proxy's own `mn` (frame_reply checked it).
  if (r.shape == ReplyShape::MetaFenced) n -= kFencedMnLength;
  if (slot_for(r, c, seq)) answer(c, seq, r.part, p, n);
}

void ProxyCore::on_failed(int node, size_t lane, BackendConnection* conn, std::vector<BackendRequest>&& waiting, const char* why, CloseReason reason) {
  BackendNode& nd = nodes_[node];
  if (nd.conns[lane] == conn) nd.conns[lane] = nullptr;
  if (nd.bconns[lane] == conn) nd.bconns[lane] = nullptr;
  if (!stopping_) {
    if (reason != CloseReason::ByOwner) {
      events_.push_back(ProxyEvent{kEventFailure, node, reason == CloseReason::Timeout ? 1 : 0, nd.replies, why});
      work();
    }
    ForwardFailure f = reason == CloseReason::Timeout ? ForwardFailure::Timeout : ForwardFailure::Connection;
    for (const BackendRequest& r : waiting) {
      ClientConnection* c;
      uint32_t seq;
      if (slot_for(r, c, seq)) retry(c, seq, r.part, node, f);
    }
  }
  handle_closed();
}

}  // namespace mcha
