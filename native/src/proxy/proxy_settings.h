// What the proxy's C++ data path is started with (src/proxy/native-core.ts builds it). The
// bounds it shares with the TypeScript path are declared in TypeScript and travel here.
#pragma once
#include <cstddef>
#include <cstdint>

#include "protocol/line_limits.h"

namespace mcha {

struct ProxySettings {
  size_t max_value = 0;        // largest data block taken from a client (-I)
  uint32_t max_clients = 0;    // -n, counted together with the TypeScript path's clients
  size_t lanes = 1;            // -i: pipelined connections per node
  LineLimits lines;
  uint32_t max_in_flight = 0;  // stop reading from a client with this many replies owed...
  size_t output_high_water = 0;   // ...or this much output unsent
  size_t backend_max_unsent = 0;  // a backend connection this far behind refuses more (overload)
  int max_tries = 0;              // nodes one request is sent to, first try and retries
  int candidates = 0;             // candidate nodes per ring point in the routing table
};

}  // namespace mcha
