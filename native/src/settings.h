// The validated Settings the TypeScript side passes at start (see src/config/settings.ts).
#pragma once
#include <cstdint>
#include <string>

namespace mcha {

struct Settings {
  std::string listen = "127.0.0.1";
  uint32_t port = 11211;
  uint64_t max_bytes = 64ull << 20;
  uint32_t max_connections = 1024;
  uint32_t threads = 4;
  uint32_t item_size_max = 1 << 20;
  int verbosity = 0;
  bool evictions = true;
  bool cas_enabled = true;
  bool shutdown_enabled = false;
  bool flush_enabled = true;
  std::string version;
  // Replication (-x / -X): writes are logged for the peer; sync mode holds write replies for acks.
  bool replicated = false;
  bool sync_mode = false;
  uint32_t node_id = 1;
};

}  // namespace mcha
