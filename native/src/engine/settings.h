// The validated Settings the TypeScript side passes at start (see src/config/settings.ts and
// src/engine/native/native-engine.ts). Bounds that both engines apply are declared there and
// travel here, never restated in C++.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/store/tombstones.h"
#include "protocol/line_limits.h"

namespace mcha {

// -B: which protocols a connection may speak (Auto: chosen from its first byte).
enum class BindingProtocol { Auto, Ascii, Binary };

struct Settings {
  std::string listen = "127.0.0.1";
  uint32_t port = 11211;
  uint64_t max_bytes = 64ull << 20;
  uint32_t max_connections = 1024;
  uint32_t threads = 4;
  uint32_t reqs_per_event = 20;  // -R: commands a connection runs per event before the others get a turn
  uint32_t item_size_max = 1 << 20;
  int verbosity = 0;  // set at start; later only through log_level()/set_log_level()
  bool evictions = true;
  bool cas_enabled = true;
  bool shutdown_enabled = false;
  bool flush_enabled = true;
  BindingProtocol protocol = BindingProtocol::Auto;
  bool sasl = false;        // -S: binary connections authenticate with SASL PLAIN first
  bool ascii_auth = false;  // -Y: text connections authenticate with memcached's `set` first
  std::string auth_file;    // -Y's file, which `stats settings` names as memcached does
  std::string version;
  LineLimits lines;
  size_t output_high_water = 0;  // stop reading from a client while this much output is unsent
  size_t output_flush_at = 0;    // hand composed replies to the socket once a batch is this large
  TombstoneLimits tombstones;
  // Replication (-x / -X): writes are logged for the peer; sync mode holds write replies for acks.
  bool replicated = false;
  bool sync_mode = false;
  uint32_t node_id = 1;

  // The `verbosity` command changes the level while other worker threads read it.
  int log_level() const { return __atomic_load_n(&verbosity, __ATOMIC_RELAXED); }
  void set_log_level(int v) { __atomic_store_n(&verbosity, v, __ATOMIC_RELAXED); }
};

}  // namespace mcha
