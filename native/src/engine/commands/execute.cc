#include "engine/commands/execute.h"

#include <cstring>
#include <string>

#include "engine/store/clock.h"
#include "protocol/numbers.h"

namespace mcha {
namespace {

void reply(Writer& out, bool noreply, const char* line) {
  if (!noreply) out.line(line);
}

}  // namespace

Outcome Commands::execute(const Request& req, Writer& out) {
  switch (req.kind) {
    case Kind::Get:
      get(req, out);
      if (req.bad_key) {
        // memcached releases every reply it has not sent yet, then reports the bad key.
        out.discard();
        out.line(kBadFormat);
      }
      return Outcome::Continue;
    case Kind::Arith: {
      const char* line = arith(req, out);
      if (line) reply(out, req.noreply, line);
      return Outcome::Continue;
    }
    case Kind::Delete: reply(out, req.noreply, remove(req)); return Outcome::Continue;
    case Kind::Touch: reply(out, req.noreply, touch(req)); return Outcome::Continue;
    case Kind::FlushAll: reply(out, req.noreply, flush_all(req)); return Outcome::Continue;
    case Kind::Stats: stats(req, out); return Outcome::Continue;
    case Kind::Version:
      out.text("VERSION ", 8);
      out.line(h_.settings.version);
      return Outcome::Continue;
    case Kind::Verbosity:
      h_.settings.verbosity = req.level > 2 ? 2 : static_cast<int>(req.level);
      reply(out, req.noreply, "OK");
      return Outcome::Continue;
    case Kind::Mn: out.line("MN"); return Outcome::Continue;
    case Kind::Quit: return Outcome::Close;
    case Kind::Close:
      out.discard();
      return Outcome::Close;
    case Kind::Shutdown:
      if (!h_.settings.shutdown_enabled) {
        out.line("ERROR: shutdown not enabled");
        return Outcome::Continue;
      }
      if (req.shutdown == ShutdownMode::Invalid) {
        out.line("CLIENT_ERROR invalid shutdown mode");
        return Outcome::Continue;
      }
      h_.shutdown(req.shutdown == ShutdownMode::Graceful);
      return Outcome::Close;
    case Kind::Meta: meta(req, out); return Outcome::Continue;
    case Kind::Error: reply(out, req.noreply, req.message); return Outcome::Continue;
    case Kind::Store:
    case Kind::MetaSet: break;  // admit_* and complete_*
  }
  return Outcome::Continue;
}

const char* Commands::admit_store(const Request& req, Item** item) {
  *item = nullptr;
  size_t size = memcached_item_size(req.key.size(), req.flags, static_cast<size_t>(req.bytes), h_.settings.cas_enabled);
  if (size > h_.settings.item_size_max) {
    c_.store_too_large++;
    if (req.op == StoreOp::Set) remove_stale(req.key);
    return "SERVER_ERROR object too large for cache";
  }
  *item = h_.store.alloc(req.key, req.flags, 0, static_cast<uint32_t>(req.bytes));
  if (!*item) {
    c_.store_no_memory++;
    if (req.op == StoreOp::Set) remove_stale(req.key);
    return "SERVER_ERROR out of memory storing object";
  }
  return nullptr;
}

void Commands::complete_store(const Request& req, Item* item, bool terminated, Writer& out) {
  c_.cmd_set++;
  if (!terminated) {
    h_.store.release(item);
    return reply(out, req.noreply, "CLIENT_ERROR bad data chunk");
  }
  reply(out, req.noreply, store(req, item, now_seconds()));
}

// Takes over `item` (the creator's reference): links it or releases it. The key is read from
// the item: the request's views into the read buffer may be stale once a data block arrived.
const char* Commands::store(const Request& req, Item* item, uint32_t now) {
  Store& st = h_.store;
  std::string_view key(item->key(), item->nkey);
  Item* old = st.get(key, now);
  item->exptime = expiry(req.exptime, now);
  switch (req.op) {
    case StoreOp::Add:
      if (old) {
        old->bits |= Item::kVisited;
        st.release(item);
        return "NOT_STORED";
      }
      break;
    case StoreOp::Replace:
      if (!old) {
        st.release(item);
        return "NOT_STORED";
      }
      break;
    case StoreOp::Append:
    case StoreOp::Prepend: {
      if (!old) {
        st.release(item);
        return "NOT_STORED";
      }
      bool too_large = false;
      Item* joined = join(old, item, req.op == StoreOp::Append, 0, too_large);
      st.release(item);
      if (!joined) return too_large ? "NOT_STORED" : "SERVER_ERROR out of memory storing object";
      item = joined;
      break;
    }
    case StoreOp::Cas:
      if (!old) {
        c_.cas_misses++;
        st.release(item);
        return "NOT_FOUND";
      }
      if (req.cas == 0 || !h_.settings.cas_enabled || req.cas != old->cas(true)) {
        c_.cas_badval++;
        st.release(item);
        return "EXISTS";
      }
      c_.cas_hits++;
      break;
    case StoreOp::Set:
      break;
  }
  stamp(item);
  if (!st.put(item, now)) {
    c_.store_no_memory++;
    // `key` lives in the item: drop the old value before releasing it.
    if (req.op == StoreOp::Set) remove_stale(key);
    st.release(item);
    return "SERVER_ERROR out of memory storing object";
  }
  if (h_.log) h_.log->set(item);
  return "STORED";
}

void Commands::get(const Request& req, Writer& out) {
  uint32_t now = now_seconds();
  uint32_t new_exptime = req.touch ? expiry(req.exptime, now) : 0;
  bool cas = h_.settings.cas_enabled;
  for (std::string_view key : req.keys) {
    c_.cmd_get++;
    if (req.touch) c_.cmd_touch++;
    Item* it = h_.store.get(key, now);
    if (!it) {
      c_.get_misses++;
      if (req.touch) c_.touch_misses++;
      continue;
    }
    c_.get_hits++;
    if (req.touch) {
      c_.touch_hits++;
      touch_item(it, new_exptime);
    }
    it->bits |= Item::kVisited | Item::kFetched;
    set_last_access(it, now);
    out.text("VALUE ", 6);
    out.text(key);
    out.text(" ", 1);
    out.number(it->flags);
    out.text(" ", 1);
    out.number(it->nvalue);
    if (req.with_cas) {
      out.text(" ", 1);
      out.number(it->cas(cas));
    }
    out.text("\r\n", 2);
    out.value(it);
  }
  out.line("END");
}

// Returns the line to send, or nullptr when the new number was written already.
const char* Commands::arith(const Request& req, Writer& out) {
  std::string digits;
  Item* it = nullptr;
  bool in_place = false;
  switch (apply_delta(req.key, req.incr, req.delta, 0, 0, out, &it, digits, in_place)) {
    case Delta::NotFound:
      if (req.incr) c_.incr_misses++;
      else c_.decr_misses++;
      return "NOT_FOUND";
    case Delta::NonNumeric: return "CLIENT_ERROR cannot increment or decrement non-numeric value";
    case Delta::NoMemory: return "SERVER_ERROR out of memory";
    case Delta::CasMismatch:  // not asked for by incr and decr
    case Delta::Ok: break;
  }
  if (h_.log) h_.log->set(it);
  if (!req.noreply) out.line(digits);
  return nullptr;
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

Item* Commands::join(const Item* old, const Item* added, bool append, uint64_t cas_in, bool& too_large) {
  std::string_view key(old->key(), old->nkey);
  uint32_t nvalue = old->nvalue + added->nvalue;
  too_large = memcached_item_size(key.size(), old->flags, nvalue, h_.settings.cas_enabled) > h_.settings.item_size_max;
  if (too_large) return nullptr;
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

const char* Commands::remove(const Request& req) {
  if (h_.store.get(req.key, now_seconds())) {
    remove_stale(req.key);
    c_.delete_hits++;
    return "DELETED";
  }
  c_.delete_misses++;
  return "NOT_FOUND";
}

const char* Commands::touch(const Request& req) {
  uint32_t now = now_seconds();
  c_.cmd_touch++;
  Item* it = h_.store.get(req.key, now);
  if (!it) {
    c_.touch_misses++;
    return "NOT_FOUND";
  }
  c_.touch_hits++;
  touch_item(it, expiry(req.exptime, now));
  // memcached's touch fetches the item with DO_UPDATE, as get does: it counts as fetched.
  it->bits |= Item::kVisited | Item::kFetched;
  set_last_access(it, now);
  return "TOUCHED";
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

const char* Commands::flush_all(const Request& req) {
  if (!h_.settings.flush_enabled) return "CLIENT_ERROR flush_all not allowed";
  if (!req.delay_ok) return "CLIENT_ERROR invalid exptime argument";
  c_.cmd_flush++;
  uint32_t now = now_seconds();
  flush_items(req.exptime > 0 ? expiry(req.exptime, now) : 0, now);
  return "OK";
}

void Commands::flush_items(uint32_t due, uint32_t now) {
  // memcached: items last stored at or before (due - 1) vanish once that second has come. A
  // due long ago is memcached's relative second 1, and 1 - 1 = 0 there means no flush at all.
  uint32_t oldest_live = due > long_ago(h_.started_at) ? due - 1 : 0;
  if (due == 0 || (oldest_live != 0 && oldest_live <= now)) {
    uint64_t version = h_.clock.next();
    h_.store.flush_all(version);
    if (h_.log) h_.log->flush(version);
  }
  if (due != 0) {
    uint64_t version = h_.clock.next();
    h_.store.flush_at(oldest_live, version);
    if (h_.log) h_.log->flush_at(oldest_live, version);
  }
}

}  // namespace mcha
