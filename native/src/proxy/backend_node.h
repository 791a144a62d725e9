// One memcached node as the proxy's C++ data path sees it: where it is, its pipelined
// connections (one per lane), whether the control plane has it in, and its counters. Mirrors
// src/proxy/backend-node.ts, which owns its health.
#pragma once
#include <uv.h>

#include <vector>

#include "proxy/backend_connection.h"
#include "proxy/proxy_stats.h"

namespace mcha {

struct BackendNode {
  sockaddr_storage addr;
  bool resolved = false;  // whether addr holds the node's address yet
  std::vector<BackendConnection*> conns;  // one per lane
  std::vector<BackendConnection*> bconns;  // one per lane, speaking the binary protocol
  bool up = true;
  double replies = 0;
  double counters[kNodeCounters] = {};
};

}  // namespace mcha
