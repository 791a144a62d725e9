#include "engine/store/store.h"

#include <cstdlib>
#include <cstring>

namespace mcha {
namespace {

constexpr size_t kInitialBuckets = 1 << 16;
// With evictions off (-M), how many items to look at for a dead one before refusing.
constexpr size_t kReclaimSearch = 64;

}  // namespace

uint64_t hash_key(const char* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL ^ n;
  for (size_t i = 0; i < n; i++) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 0x100000001b3ULL;
  }
  return h ^ (h >> 31);
}

Store::Store(uint64_t limit_bytes, bool evictions, const TombstoneLimits* tombstones) : limit_(limit_bytes), evictions_(evictions) {
  size_ = kInitialBuckets;
  table_ = static_cast<Item**>(calloc(size_, sizeof(Item*)));
  if (tombstones) tombs_ = new Tombstones(*tombstones);
}

Store::~Store() {
  for (Item* it = head_; it != nullptr;) {
    Item* next = it->next;
    it->bits &= static_cast<uint8_t>(~Item::kLinked);
    release(it);
    it = next;
  }
  free(table_);
  free(old_);
  delete tombs_;
}

Item* Store::alloc(std::string_view key, uint32_t flags, uint32_t exptime, uint32_t nvalue, uint64_t explicit_cas) {
  size_t tail = explicit_cas != 0 ? sizeof(uint64_t) : 0;
  Item* it = static_cast<Item*>(malloc(sizeof(Item) + key.size() + nvalue + tail));
  if (!it) return nullptr;
  it->hnext = it->prev = it->next = nullptr;
  it->version = it->touched = 0;
  it->exptime = exptime;
  it->flags = flags;
  it->nvalue = nvalue;
  it->refcount = 1;
  it->origin = 0;
  it->nkey = static_cast<uint8_t>(key.size());
  it->bits = 0;
  it->atime = 0;
  memcpy(it->bytes, key.data(), key.size());
  if (tail) {
    it->bits = Item::kExplicitCas;
    memcpy(it->bytes + key.size() + nvalue, &explicit_cas, sizeof(explicit_cas));
  }
  return it;
}

void Store::release(Item* it) {
  // Acquire-release: whoever frees the item sees every other holder's reads of it finished.
  if (__atomic_sub_fetch(&it->refcount, 1, __ATOMIC_ACQ_REL) == 0) free(it);
}

Store::Dead Store::dead(const Item* it, uint32_t now) const {
  if (it->version < flushed_below_) return Dead::Flushed;
  if (oldest_live_ != 0 && oldest_live_ <= now && stored_second(it->version) <= oldest_live_) return Dead::Flushed;
  if (it->exptime != 0 && it->exptime <= now) return Dead::Expired;
  return Dead::No;
}

Item** Store::find_slot(std::string_view key, uint64_t h) {
  rehash_step(1);
  Item** tables[2] = {table_, old_};
  size_t sizes[2] = {size_, old_size_};
  for (int t = 0; t < 2; t++) {
    if (!tables[t]) continue;
    size_t b = h & (sizes[t] - 1);
    if (t == 1 && b < rehash_pos_) continue;  // already moved
    for (Item** slot = &tables[t][b]; *slot; slot = &(*slot)->hnext) {
      Item* it = *slot;
      if (it->nkey == key.size() && memcmp(it->key(), key.data(), key.size()) == 0) return slot;
    }
  }
  return nullptr;
}

Item* Store::get(std::string_view key, uint32_t now) {
  Item** slot = find_slot(key, hash_key(key.data(), key.size()));
  if (!slot) return nullptr;
  Item* it = *slot;
  Dead d = dead(it, now);
  if (d == Dead::No) return it;
  if (d == Dead::Expired) c_.expired_on_access++;
  else c_.flushed_on_access++;
  unlink(it);
  return nullptr;
}

bool Store::put(Item* it, uint32_t now) { return put(it, now, hash_key(it->key(), it->nkey)); }

bool Store::put(Item* it, uint32_t now, uint64_t h) { return link(it, now, h, true); }

bool Store::put_rewrite(Item* it, uint32_t now) { return link(it, now, hash_key(it->key(), it->nkey), false); }

bool Store::link(Item* it, uint32_t now, uint64_t h, bool counts) {
  std::string_view key(it->key(), it->nkey);
  Item** slot = find_slot(key, h);
  Item* old = slot ? *slot : nullptr;
  size_t freed = old ? old->total_size() : 0;
  size_t size = it->total_size();
  while (used_ - freed + size > limit_) {
    bool made = evictions_ ? evict_one(now, old, 2 * count_ + 2, true) : evict_one(now, old, kReclaimSearch, false);
    if (!made) return false;
  }
  if (old) unlink(old);
  maybe_grow();
  Item** bucket = &table_[h & (size_ - 1)];
  it->hnext = *bucket;
  *bucket = it;
  it->bits |= Item::kLinked;
  it->prev = nullptr;
  it->next = head_;
  if (head_) head_->prev = it;
  head_ = it;
  if (!tail_) tail_ = it;
  count_++;
  used_ += size;
  if (counts) c_.total_items++;
  return true;
}

Item* Store::raw(std::string_view key) { return raw(key, hash_key(key.data(), key.size())); }

Item* Store::raw(std::string_view key, uint64_t h) {
  Item** slot = find_slot(key, h);
  return slot ? *slot : nullptr;
}

void Store::flush_all(uint64_t version) {
  if (version > flushed_below_) flushed_below_ = version;
  if (version > flush_register_version_) {
    oldest_live_ = 0;
    flush_register_version_ = version;
  }
}

void Store::flush_at(uint32_t oldest_live, uint64_t version) {
  if (version <= flush_register_version_) return;
  oldest_live_ = oldest_live;
  flush_register_version_ = version;
}

Item* Store::snapshot_next() {
  if (!snapshotting_) return nullptr;
  Item* it = snap_;
  if (!it) {
    snapshotting_ = false;
    return nullptr;
  }
  snap_ = it->next;
  return it;
}

bool Store::remove(std::string_view key) {
  Item** slot = find_slot(key, hash_key(key.data(), key.size()));
  if (!slot) return false;
  unlink(*slot);
  return true;
}

void Store::unlink(Item* it) {
  std::string_view key(it->key(), it->nkey);
  uint64_t h = hash_key(key.data(), key.size());
  Item** tables[2] = {table_, old_};
  size_t sizes[2] = {size_, old_size_};
  for (int t = 0; t < 2; t++) {
    if (!tables[t]) continue;
    for (Item** slot = &tables[t][h & (sizes[t] - 1)]; *slot; slot = &(*slot)->hnext) {
      if (*slot == it) {
        *slot = it->hnext;
        t = 2;
        break;
      }
    }
  }
  if (hand_ == it) hand_ = it->prev;
  if (sweep_ == it) sweep_ = it->prev;
  if (snap_ == it) snap_ = it->next;
  if (it->prev) it->prev->next = it->next;
  else head_ = it->next;
  if (it->next) it->next->prev = it->prev;
  else tail_ = it->prev;
  it->prev = it->next = it->hnext = nullptr;
  it->bits &= static_cast<uint8_t>(~Item::kLinked);
  count_--;
  used_ -= it->total_size();
  release(it);
}

// The SIEVE hand walks from the oldest item towards the newest and wraps around: a dead item
// leaves wherever it is met; otherwise (allow_live) the first item not read since the hand last
// passed it. `keep` never leaves.
bool Store::evict_one(uint32_t now, const Item* keep, size_t max_steps, bool allow_live) {
  for (size_t steps = 0; steps < max_steps; steps++) {
    if (!hand_) hand_ = tail_;
    if (!hand_) return false;
    Item* it = hand_;
    hand_ = it->prev;
    if (it == keep) continue;
    if (dead(it, now) != Dead::No) {
      if (!(it->bits & Item::kFetched) && it->exptime != 0) c_.expired_unfetched++;
      c_.reclaimed++;
      unlink(it);
      return true;
    }
    if (!allow_live) continue;
    if (it->bits & Item::kVisited) {
      it->bits &= static_cast<uint8_t>(~Item::kVisited);
      continue;
    }
    if (!(it->bits & Item::kFetched)) c_.evicted_unfetched++;
    c_.evictions++;
    unlink(it);
    return true;
  }
  return false;
}

void Store::sweep(uint32_t now, size_t budget) {
  rehash_step(budget);
  if (tombs_) tombs_->expire(static_cast<uint64_t>(now) * 1000, budget);
  for (size_t i = 0; i < budget; i++) {
    if (!sweep_) sweep_ = tail_;
    if (!sweep_) return;
    Item* it = sweep_;
    sweep_ = it->prev;
    if (dead(it, now) != Dead::No) {
      c_.crawler_reclaimed++;
      unlink(it);
    }
    if (!sweep_) return;  // one full pass per call at most
  }
}

void Store::maybe_grow() {
  if (old_ || count_ < size_ + size_ / 2) return;
  Item** bigger = static_cast<Item**>(calloc(size_ * 2, sizeof(Item*)));
  if (!bigger) return;  // keep chaining in the current table
  old_ = table_;
  old_size_ = size_;
  table_ = bigger;
  size_ *= 2;
  rehash_pos_ = 0;
}

// Moves `buckets` buckets of the old table into the new one: growth is spread over the
// operations and sweeps that follow it, never one long pause.
void Store::rehash_step(size_t buckets) {
  if (!old_) return;
  for (size_t n = 0; n < buckets && rehash_pos_ < old_size_; n++, rehash_pos_++) {
    Item* it = old_[rehash_pos_];
    old_[rehash_pos_] = nullptr;
    while (it) {
      Item* next = it->hnext;
      Item** bucket = &table_[hash_key(it->key(), it->nkey) & (size_ - 1)];
      it->hnext = *bucket;
      *bucket = it;
      it = next;
    }
  }
  if (rehash_pos_ == old_size_) {
    free(old_);
    old_ = nullptr;
    old_size_ = 0;
  }
}

}  // namespace mcha
