// The writes the text, meta and binary commands share, as memcached's do_store_item and
// do_add_delta do them, with the replication log kept in step (the twin of the TypeScript
// engine's commands/writes.ts). Counters are counted where memcached counts them.
#include <cstring>
#include <string>

#include "engine/commands/execute.h"
#include "engine/store/clock.h"
#include "protocol/numbers.h"

namespace mcha {

Commands::StoreResult Commands::store_item(const StoreArgs& a, Item* item, uint32_t now) {
  Store& st = h_.store;
  bool cas_enabled = h_.settings.cas_enabled;
  // The key lives in the item: the request's views into the read buffer may be stale by now.
  std::string_view key(item->key(), item->nkey);
  StoreResult result{Stored::NotStored, 0, item->nvalue};
  Item* old = st.get(key, now);
  Item* linked = nullptr;  // what is to be linked: `item`, or the joined item
  if (old) {
    uint64_t old_cas = old->cas(cas_enabled);
    enum class Cas { None, Match, Stale, Bad } cas = a.cas == 0 ? Cas::None : a.cas == old_cas ? Cas::Match
                                                   : a.stale_on_older && a.op == StoreOp::Cas && a.cas < old_cas ? Cas::Stale : Cas::Bad;
    switch (a.op) {
      case StoreOp::Add: old->bits |= Item::kVisited; break;
      case StoreOp::Cas:
        if (cas == Cas::Match) {
          c_.cas_hits++;
          linked = item;
        } else if (cas == Cas::Stale) {
          // An older writer's value is taken but marked stale, keeping the TTL and a sent win.
          item->exptime = old->exptime;
          item->bits |= Item::kStale | (old->bits & Item::kWinSent);
          c_.cas_hits++;
          linked = item;
        } else {
          // No CAS at all compares as a bad one.
          c_.cas_badval++;
          result.status = Stored::Exists;
        }
        break;
      case StoreOp::Append:
      case StoreOp::Prepend: {
        if (cas != Cas::None && cas != Cas::Match) {
          result.status = Stored::Exists;
          break;
        }
        // Too large, or out of memory for the copy: memcached's NOT_STORED either way.
        linked = join(old, item, a.op == StoreOp::Append, a.cas_in);
        break;
      }
      case StoreOp::Replace:
      case StoreOp::Set: linked = item; break;
    }
  } else if (a.op == StoreOp::Cas) {
    c_.cas_misses++;
    result.status = Stored::NotFound;
  } else if (a.op == StoreOp::Add || a.op == StoreOp::Set || a.vivify) {
    linked = item;
  }
  if (linked) {
    stamp(linked);
    if (st.put(linked, now)) {
      if (h_.log) h_.log->set(linked);
      result = {Stored::Stored, linked->cas(cas_enabled), linked->nvalue};
    } else if (linked != item) {
      // The joined copy found no room: memcached's NOT_STORED, as when it cannot allocate it.
      st.release(linked);
      linked = nullptr;
    } else {
      c_.store_no_memory++;
      if (a.op == StoreOp::Set) remove_stale(key);
      linked = nullptr;
      result.status = Stored::NoMemory;
    }
  }
  // The table took over `item` if it was linked; otherwise the creator's reference goes here.
  if (linked != item) st.release(item);
  return result;
}

Commands::Delta Commands::apply_delta(std::string_view key, bool incr, uint64_t delta, uint64_t cas_check, uint64_t cas_in, const Writer& replies, Item** out, std::string& digits, bool& in_place) {
  Store& st = h_.store;
  uint32_t now = now_seconds();
  Item* old = st.get(key, now);
  if (!old) return Delta::NotFound;
  // do_add_delta: an empty value, or one memcached would chunk, is no number (before any CAS compare).
  if (old->nvalue == 0 || memcached_item_size(key.size(), old->flags, old->nvalue, h_.settings.cas_enabled) > kSlabChunkMax) return Delta::NonNumeric;
  if (cas_check != 0 && old->cas(h_.settings.cas_enabled) != cas_check) return Delta::CasMismatch;
  uint64_t current;
  if (!parse_u64(old->value(), old->nvalue, current)) return Delta::NonNumeric;
  if (incr) c_.incr_hits++;
  else c_.decr_hits++;
  uint64_t next = incr ? current + delta : (delta > current ? 0 : current - delta);
  digits = std::to_string(next);
  // memcached rewrites a number that still fits in place, padding with spaces: the item keeps
  // its marks, fetched state and access time. A longer number is a new item, and so is any
  // number while a reply not yet transmitted (an mg hit) holds the item.
  in_place = digits.size() <= old->nvalue && !replies.holds(old);
  Item* it;
  if (in_place) {
    it = rewrite(old, old->nvalue, Item::kMetaBits | Item::kFetched, cas_in);
  } else {
    it = st.alloc(key, old->flags, old->exptime, static_cast<uint32_t>(digits.size()), cas_in);
    if (it) stamp(it);
  }
  if (!it) return Delta::NoMemory;
  memset(it->value(), ' ', it->nvalue);
  memcpy(it->value(), digits.data(), digits.size());
  it->bits |= Item::kVisited;
  if (!(in_place ? st.put_rewrite(it, now) : st.put(it, now))) {
    st.release(it);
    return Delta::NoMemory;
  }
  *out = it;
  return Delta::Ok;
}

Item* Commands::join(const Item* old, const Item* added, bool append, uint64_t cas_in) {
  std::string_view key(old->key(), old->nkey);
  uint32_t nvalue = old->nvalue + added->nvalue;
  if (memcached_item_size(key.size(), old->flags, nvalue, h_.settings.cas_enabled) > h_.settings.item_size_max) return nullptr;
  Item* joined = h_.store.alloc(key, old->flags, old->exptime, nvalue, cas_in);
  if (!joined) return nullptr;
  const Item* first = append ? old : added;
  const Item* second = append ? added : old;
  memcpy(joined->value(), first->value(), first->nvalue);
  memcpy(joined->value() + first->nvalue, second->value(), second->nvalue);
  return joined;
}

Item* Commands::rewrite(const Item* old, uint32_t nvalue, uint8_t keep, uint64_t cas_in) {
  Item* it = h_.store.alloc(std::string_view(old->key(), old->nkey), old->flags, old->exptime, nvalue, cas_in);
  if (!it) return nullptr;
  memcpy(it->value(), old->value(), nvalue < old->nvalue ? nvalue : old->nvalue);
  it->bits |= old->bits & keep;
  stamp(it);
  set_last_access(it, last_access(old));
  return it;
}

void Commands::stamp(Item* it) {
  it->version = it->touched = h_.clock.next();
  it->origin = h_.node_id;
}

// A new expiry, same version (gets-then-cas still works); `touched` orders it on the peer.
void Commands::touch_item(Item* it, uint32_t exptime) {
  it->exptime = exptime;
  if (!h_.log) return;
  it->touched = h_.clock.next();
  h_.log->touch(it);
}

// Removes a key as a versioned delete: the peer drops it too, and older writes cannot bring it back.
void Commands::remove_stale(std::string_view key) {
  if (!h_.log) {
    h_.store.remove(key);
    return;
  }
  // `key` may point into the item being removed: log and lay the tombstone first.
  uint64_t version = h_.clock.next();
  h_.log->remove(key, version);
  if (Tombstones* t = h_.store.tombstones()) t->lay(key, version, h_.node_id, static_cast<uint64_t>(now_seconds()) * 1000);
  h_.store.remove(key);
}

}  // namespace mcha
