// What a replicated delete leaves behind: the version an older write must not resurrect.
// Bounded in time and count; the oldest go first. Mirrors src/engine/ts/store/tombstones.ts.
#pragma once
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mcha {

struct Tombstone {
  uint64_t version;
  uint32_t origin;
  uint64_t at_ms;
  std::list<std::string>::iterator order;
};

// How long and how many: declared in src/engine/ts/store/tombstones.ts, passed in Settings.
struct TombstoneLimits {
  uint64_t ttl_ms = 0;
  size_t max = 0;
};

// The apply rule's order: (version, origin) compared as a pair.
inline bool is_newer(uint64_t v, uint32_t o, uint64_t than_v, uint32_t than_o) {
  return v > than_v || (v == than_v && o > than_o);
}

class Tombstones {
 public:
  explicit Tombstones(TombstoneLimits limits) : limits_(limits) {}

  const Tombstone* get(std::string_view key) const;
  void lay(std::string_view key, uint64_t version, uint32_t origin, uint64_t now_ms);
  void lift(std::string_view key);
  void expire(uint64_t now_ms, size_t budget);
  size_t size() const { return by_key_.size(); }
  template <typename F>
  void each(F f) const {
    for (const std::string& key : order_) f(key, by_key_.at(key));
  }

 private:
  TombstoneLimits limits_;
  std::unordered_map<std::string, Tombstone> by_key_;
  std::list<std::string> order_;  // oldest first
};

}  // namespace mcha
