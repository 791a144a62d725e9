// Item versions: a hybrid logical clock, strictly increasing on this node, close to wall time:
// milliseconds * 1024 + a logical counter (the TypeScript engine uses the same encoding, so
// the two engines' CAS uniques look alike and will compare across replicas).
#pragma once
#include <chrono>
#include <cstdint>

namespace mcha {

class VersionClock {
 public:
  uint64_t next() {
    uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count());
    uint64_t physical = ms * 1024;
    last_ = physical > last_ ? physical : last_ + 1;
    return last_;
  }
  // A version seen from the peer: later local versions must be higher (causality across replicas).
  void observe(uint64_t v) {
    if (v > last_) last_ = v;
  }
  uint64_t latest() const { return last_; }

 private:
  uint64_t last_ = 0;
};

}  // namespace mcha
