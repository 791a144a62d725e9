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
  uint64_t cmd_meta = 0;  // me, as memcached counts it
  uint64_t auth_cmds = 0, auth_errors = 0;  // -S and -Y attempts, and the failed ones
};

// The counters `stats` shows after get_flushed, in memcached's order, by name.
struct NamedCounter {
  const char* name;
  uint64_t CommandCounters::*field;
};
inline constexpr NamedCounter kOutcomeCounters[] = {
    {"delete_misses", &CommandCounters::delete_misses}, {"delete_hits", &CommandCounters::delete_hits}, {"incr_misses", &CommandCounters::incr_misses},
    {"incr_hits", &CommandCounters::incr_hits}, {"decr_misses", &CommandCounters::decr_misses}, {"decr_hits", &CommandCounters::decr_hits},
    {"cas_misses", &CommandCounters::cas_misses}, {"cas_hits", &CommandCounters::cas_hits}, {"cas_badval", &CommandCounters::cas_badval},
    {"touch_hits", &CommandCounters::touch_hits}, {"touch_misses", &CommandCounters::touch_misses},
    {"store_too_large", &CommandCounters::store_too_large}, {"store_no_memory", &CommandCounters::store_no_memory},
};

// One client connection as `stats conns` shows it.
struct ConnectionInfo {
  uint64_t id;
  std::string addr;
  const char* state;
  uint32_t last_command_at;
};

struct ConnectionCounters {
  uint64_t curr = 0, total = 0, rejected = 0, bytes_read = 0, bytes_written = 0, conn_yields = 0;
};

}  // namespace mcha
