#include "engine/replica/snapshot.h"

namespace mcha {

uint64_t Snapshot::begin() {
  store_.snapshot_begin();
  below_ = clock_.latest() + 1;
  active_ = first_ = true;
  return store_.count();
}

uint32_t Snapshot::next(RecordBuffer& out, size_t max_bytes, bool& done) {
  done = false;
  if (!active_) {
    done = true;
    return 0;
  }
  if (first_) {
    first_ = false;
    metadata(out);
  }
  uint32_t items = 0;
  uint64_t flushed_below = store_.flushed_below();
  while (out.size() < max_bytes) {
    Item* it = store_.snapshot_next();
    if (!it) {
      active_ = false;
      done = out.size() == 0;
      break;
    }
    if (it->version >= below_ || it->version < flushed_below) continue;
    // META_SET for items with meta state, so the peer gets their marks and explicit CAS too.
    if (encode_set(out, it)) items++;
  }
  return items;
}

// Flush state and tombstones, before the first item.
void Snapshot::metadata(RecordBuffer& out) {
  uint64_t flushed_below = store_.flushed_below();
  if (flushed_below > 0) encode_flush(out, flushed_below, origin_);
  if (store_.flush_register_version() > flushed_below) {
    encode_flush_at(out, store_.oldest_live(), store_.flush_register_version(), origin_);
  }
  if (Tombstones* t = store_.tombstones()) {
    t->each([&](const std::string& key, const Tombstone& ts) { encode_delete(out, key, ts.version, ts.origin); });
  }
}

}  // namespace mcha
