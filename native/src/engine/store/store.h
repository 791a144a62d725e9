// The item table: a chained hash table that grows incrementally (no pause while it doubles),
// item memory accounted against -m, SIEVE eviction (NSDI 2024), lazy expiry on access plus an
// incremental sweep, versions and flush_all. Knows nothing of the protocol or of sockets.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/store/item.h"
#include "engine/store/tombstones.h"

namespace mcha {

struct StoreCounters {
  uint64_t total_items = 0, evictions = 0, evicted_unfetched = 0, expired_unfetched = 0;
  uint64_t reclaimed = 0, crawler_reclaimed = 0, expired_on_access = 0, flushed_on_access = 0;
};

class Store {
 public:
  // `tombstones`: a replicated node keeps what deletes leave behind, within these limits.
  Store(uint64_t limit_bytes, bool evictions, const TombstoneLimits* tombstones = nullptr);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A new unlinked item holding one reference for its creator (nullptr if malloc fails).
  // A non-zero `explicit_cas` is the CAS a client chose (meta E): only such items carry it.
  Item* alloc(std::string_view key, uint32_t flags, uint32_t exptime, uint32_t nvalue, uint64_t explicit_cas = 0);
  // Takes one more reference, for a caller that reads an item after handing its own on. Under
  // the store lock (the item was found in the table, or is the caller's own).
  void retain(Item* it) { __atomic_fetch_add(&it->refcount, 1, __ATOMIC_RELAXED); }
  // Drops one reference; the item is freed with the last. Any thread, with or without the
  // store lock: a reply's references go when its write completes.
  void release(Item* it);

  // The live item for a key (no reference taken), unlinking it if expired or flushed.
  Item* get(std::string_view key, uint32_t now);
  // Links an item, replacing any previous one for its key. Takes over the creator's
  // reference on success; on false (no memory) the caller still owns it.
  bool put(Item* it, uint32_t now);
  // The same with the key's hash_key() already known (the apply path looks the key up first).
  bool put(Item* it, uint32_t now, uint64_t hash);
  // Links a new version of a linked item that memcached changes in place (incr of a number that
  // fits, md I): like put(), but not counted as a new item in total_items.
  bool put_rewrite(Item* it, uint32_t now);
  bool remove(std::string_view key);
  // The item linked under a key, alive or not: the apply rule compares versions of dead items too.
  Item* raw(std::string_view key);
  Item* raw(std::string_view key, uint64_t hash);

  // flush_all: every item older than `version` is gone, and an earlier delayed flush is cancelled.
  void flush_all(uint64_t version);
  // memcached's delayed flush: at second `oldest_live`, items stored at or before it vanish.
  // A register versioned like an item, so both replicas agree on it.
  void flush_at(uint32_t oldest_live, uint64_t version);
  uint64_t flushed_below() const { return flushed_below_; }
  uint32_t oldest_live() const { return oldest_live_; }
  uint64_t flush_register_version() const { return flush_register_version_; }

  // Snapshot for a full sync: walks from the newest item to the oldest, so items linked after
  // it began (behind the cursor) never make it chase; unlinking the next item moves the cursor on.
  void snapshot_begin() { snap_ = head_; snapshotting_ = true; }
  Item* snapshot_next();

  Tombstones* tombstones() { return tombs_; }
  // Removes dead items visiting at most `budget` of them, and moves the table's growth on.
  void sweep(uint32_t now, size_t budget);

  uint64_t count() const { return count_; }
  uint64_t bytes() const { return used_; }
  bool expanding() const { return old_ != nullptr; }
  size_t buckets() const { return size_; }
  const StoreCounters& counters() const { return c_; }

 private:
  enum class Dead { No, Expired, Flushed };
  bool link(Item* it, uint32_t now, uint64_t hash, bool counts);
  Dead dead(const Item* it, uint32_t now) const;
  Item** find_slot(std::string_view key, uint64_t h);
  void unlink(Item* it);
  bool evict_one(uint32_t now, const Item* keep, size_t max_steps, bool allow_live);
  void rehash_step(size_t buckets);
  void maybe_grow();

  Item** table_ = nullptr;  // new table
  size_t size_ = 0;
  Item** old_ = nullptr;    // table being drained while growing
  size_t old_size_ = 0;
  size_t rehash_pos_ = 0;

  Item* head_ = nullptr;  // newest
  Item* tail_ = nullptr;  // oldest
  Item* hand_ = nullptr;
  Item* sweep_ = nullptr;

  uint64_t count_ = 0, used_ = 0, limit_;
  bool evictions_;
  uint64_t flushed_below_ = 0;
  uint32_t oldest_live_ = 0;
  uint64_t flush_register_version_ = 0;
  Item* snap_ = nullptr;
  bool snapshotting_ = false;
  Tombstones* tombs_ = nullptr;
  StoreCounters c_;
};

uint64_t hash_key(const char* p, size_t n);

}  // namespace mcha
