// This node's own writes as replication records, waiting to be drained by the replication
// layer (TypeScript) at most once per loop turn. Records applied from the peer are never logged.
// Written and drained under the store lock; end() may be read without it (the sync gate).
#pragma once
#include <atomic>
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
  // It may be called on any worker thread.
  MutationLog(uint32_t origin, std::function<void()> wake) : origin_(origin), wake_(std::move(wake)) {}

  // The item as it now is: a SET, or a META_SET when it carries meta state (stale, a written
  // stub's win, a base64 key, an explicit CAS).
  void set(const Item* it) { logged(encode_set(buf_, it)); }
  void remove(std::string_view key, uint64_t version) { logged(encode_delete(buf_, key, version, origin_)); }
  void touch(const Item* it) { logged(encode_touch(buf_, it)); }
  void flush(uint64_t version) { logged(encode_flush(buf_, version, origin_)); }
  void flush_at(uint32_t oldest_live, uint64_t version) { logged(encode_flush_at(buf_, oldest_live, version, origin_)); }

  // The stream offset just past every record logged so far (drained or not).
  uint64_t end() const { return end_.load(std::memory_order_relaxed); }
  // A drain is two calls from the replication layer: how many bytes wait (it sizes its buffer
  // by that), then the copy. Worker threads keep logging in between, so the first call seals
  // what is waiting and the rest never see the records logged after it.
  size_t seal() {
    if (sealed_.size() == 0 && buf_.size() != 0) {
      sealed_.swap(buf_);
      sealed_records_ = records_;
      records_ = 0;
    }
    return sealed_.size();
  }
  uint32_t sealed_records() const { return sealed_records_; }
  const char* sealed_data() const { return sealed_.data(); }
  // Forgets the sealed bytes (the caller copied them), keeping their memory; records logged
  // since the seal wake the drainer again.
  void drained() {
    drained_ += sealed_.size();
    sealed_records_ = 0;
    sealed_.clear(kKeepBytes);
    woken_ = records_ > 0;
    if (woken_) wake_();
  }

 private:
  void logged(bool ok) {
    // Out of memory: the record is lost to the peer, which a later full sync repairs; never a crash.
    if (!ok) return;
    records_++;
    // Relaxed: the thread that logged reads it back itself; others only need a value that grows.
    end_.store(drained_ + sealed_.size() + buf_.size(), std::memory_order_relaxed);
    if (!woken_) {
      woken_ = true;
      wake_();
    }
  }

  uint32_t origin_;
  std::function<void()> wake_;
  RecordBuffer buf_;     // logged since the last seal
  RecordBuffer sealed_;  // sealed, waiting for the copy
  uint32_t sealed_records_ = 0;
  uint64_t drained_ = 0;
  std::atomic<uint64_t> end_{0};
  uint32_t records_ = 0;
  bool woken_ = false;
};

}  // namespace mcha
