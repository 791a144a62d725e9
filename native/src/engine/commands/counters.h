// What `stats` counts: memcached's per-command counters (named as in its output) and what the
// network layer counts. Mirrors src/engine/ts/commands/counters.ts.
#pragma once
#include <cstdint>
#include <string>

namespace mcha {

struct CommandCounters {
  uint64_t cmd_get = 0, cmd_set = 0, cmd_flush = 0, cmd_touch = 0, get_hits = 0, get_misses = 0;
  uint64_t delete_misses = 0, delete_hits = 0, incr_misses = 0, incr_hits = 0, decr_misses = 0, decr_hits = 0;
  uint64_t cas_misses = 0, cas_hits = 0, cas_badval = 0, touch_hits = 0, touch_misses = 0;
  uint64_t store_too_large = 0, store_no_memory = 0;
};

// One client connection as `stats conns` shows it.
struct ConnectionInfo {
  uint64_t id;
  std::string addr;
  const char* state;
  uint32_t last_command_at;
};

struct ConnectionCounters {
  uint64_t curr = 0, total = 0, rejected = 0, bytes_read = 0, bytes_written = 0;
};

}  // namespace mcha
