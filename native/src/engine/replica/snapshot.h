// A full sync's view of the store, read in chunks while writes go on. Items written after the
// snapshot began are left out (they travel in the live stream); expired items still linked are
// included, because their versions decide against older values the peer may hold.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/replica/codec.h"
#include "engine/store/store.h"
#include "engine/store/version_clock.h"

namespace mcha {

class Snapshot {
 public:
  Snapshot(Store& store, VersionClock& clock, uint32_t origin) : store_(store), clock_(clock), origin_(origin) {}
  // Starts over; returns the item count at the start.
  uint64_t begin();
  // Encodes about `max_bytes` of records into `out`; returns the items in it. `done` once complete.
  uint32_t next(RecordBuffer& out, size_t max_bytes, bool& done);

 private:
  void metadata(RecordBuffer& out);

  Store& store_;
  VersionClock& clock_;
  uint32_t origin_;
  uint64_t below_ = 0;
  bool active_ = false, first_ = false;
};

}  // namespace mcha
