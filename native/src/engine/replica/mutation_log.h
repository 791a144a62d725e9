// This node's own writes as replication records, waiting to be drained by the replication
// layer (TypeScript) at most once per loop turn. Records applied from the peer are never logged.
#pragma once
#include <cstdint>
#include <functional>
#include <string_view>

#include "engine/replica/codec.h"

namespace mcha {

class MutationLog {
 public:
  // A log that grew past this for a burst gives the memory back once drained.
  static constexpr size_t kKeepBytes = 4 * 1024 * 1024;

  // `wake` is called when a record arrives in an empty log: the drainer runs on a later turn.
  MutationLog(uint32_t origin, std::function<void()> wake) : origin_(origin), wake_(std::move(wake)) {}

  // The item as it now is: a SET, or a META_SET when it carries meta state (stale, a written
  // stub's win, a base64 key, an explicit CAS).
  void set(const Item* it) { logged(encode_set(buf_, it)); }
  void remove(std::string_view key, uint64_t version) { logged(encode_delete(buf_, key, version, origin_)); }
  void touch(const Item* it) { logged(encode_touch(buf_, it)); }
  void flush(uint64_t version) { logged(encode_flush(buf_, version, origin_)); }
  void flush_at(uint32_t oldest_live, uint64_t version) { logged(encode_flush_at(buf_, oldest_live, version, origin_)); }

  // The stream offset just past every record logged so far (drained or not).
  uint64_t end() const { return drained_ + buf_.size(); }
  size_t pending() const { return buf_.size(); }
  uint32_t pending_records() const { return records_; }
  const char* data() const { return buf_.data(); }
  // Forgets the pending bytes (the caller copied them); the log starts empty and keeps its memory.
  void drained() {
    drained_ += buf_.size();
    records_ = 0;
    woken_ = false;
    buf_.clear(kKeepBytes);
  }

 private:
  void logged(bool ok) {
    // Out of memory: the record is lost to the peer, which a later full sync repairs; never a crash.
    if (!ok) return;
    records_++;
    if (!woken_) {
      woken_ = true;
      wake_();
    }
  }

  uint32_t origin_;
  std::function<void()> wake_;
  RecordBuffer buf_;
  uint64_t drained_ = 0;
  uint32_t records_ = 0;
  bool woken_ = false;
};

}  // namespace mcha
