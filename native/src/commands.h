// memcached's command semantics over the store: a request (and its data block) in, reply
// bytes out. Knows nothing of sockets.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mutation_log.h"
#include "request.h"
#include "settings.h"
#include "store.h"
#include "version_clock.h"
#include "writer.h"

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

struct CommandHost {
  Settings& settings;
  Store& store;
  VersionClock& clock;
  ConnectionCounters& connections;
  uint32_t node_id;
  uint32_t started_at;
  std::function<uint32_t()> bound_port;
  std::function<std::vector<ConnectionInfo>()> open_connections;
  std::function<void(bool graceful)> shutdown;
  // This node's writes for the peer; nullptr on a standalone node.
  MutationLog* log = nullptr;
  // `stats replication` as the replication layer last rendered it (STAT lines); nullptr standalone.
  const std::string* replication_stats = nullptr;
};

enum class Outcome { Continue, Close };

class Commands {
 public:
  explicit Commands(CommandHost host) : h_(std::move(host)) {}

  Outcome execute(const Request& req, Writer& out);
  // Before the data block is read: nullptr to read it into `*item`, or the error line to send
  // while it is swallowed (a failed `set` removes the old value, as in memcached).
  const char* admit_store(const Request& req, Item** item);
  // Once the data block is in: its value in the item, `terminated` if "\r\n" followed it.
  void complete_store(const Request& req, Item* item, bool terminated, Writer& out);

  const CommandCounters& counters() const { return c_; }

 private:
  const char* store(const Request& req, Item* item, uint32_t now);
  void get(const Request& req, Writer& out);
  const char* arith(const Request& req, Writer& out);
  const char* remove(const Request& req);
  const char* touch(const Request& req);
  const char* flush_all(const Request& req);
  void stats(const Request& req, Writer& out);
  void touch_item(Item* it, uint32_t exptime);
  void remove_stale(std::string_view key);

  CommandHost h_;
  CommandCounters c_;
};

uint32_t now_seconds();
uint32_t absolute_expiry(int32_t exptime, uint32_t now);

}  // namespace mcha
