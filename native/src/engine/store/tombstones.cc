#include "engine/store/tombstones.h"

namespace mcha {

const Tombstone* Tombstones::get(std::string_view key) const {
  if (by_key_.empty()) return nullptr;  // the usual case: no string built, nothing hashed
  auto it = by_key_.find(std::string(key));
  return it == by_key_.end() ? nullptr : &it->second;
}

void Tombstones::lay(std::string_view key, uint64_t version, uint32_t origin, uint64_t now_ms) {
  std::string k(key);
  auto it = by_key_.find(k);
  if (it != by_key_.end()) {
    if (is_newer(it->second.version, it->second.origin, version, origin)) return;
    order_.erase(it->second.order);
    by_key_.erase(it);
  }
  order_.push_back(k);
  by_key_.emplace(std::move(k), Tombstone{version, origin, now_ms, std::prev(order_.end())});
  if (by_key_.size() > limits_.max) {
    by_key_.erase(order_.front());
    order_.pop_front();
  }
}

void Tombstones::lift(std::string_view key) {
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end()) return;
  order_.erase(it->second.order);
  by_key_.erase(it);
}

void Tombstones::expire(uint64_t now_ms, size_t budget) {
  while (budget-- > 0 && !order_.empty()) {
    auto it = by_key_.find(order_.front());
    if (it->second.at_ms + limits_.ttl_ms > now_ms) return;
    by_key_.erase(it);
    order_.pop_front();
  }
}

}  // namespace mcha
