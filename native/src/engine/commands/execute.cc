#include "engine/commands/execute.h"

#include <string>

#include "engine/store/clock.h"

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
      h_.settings.set_log_level(req.level > 2 ? 2 : static_cast<int>(req.level));
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
  uint32_t now = now_seconds();
  item->exptime = expiry(req.exptime, now);
  StoreArgs a;
  a.op = req.op;
  // With -C items keep no CAS: the request's compares as none, and a cas then finds EXISTS.
  a.cas = h_.settings.cas_enabled ? req.cas : 0;
  switch (store_item(a, item, now).status) {
    case Stored::Stored: return reply(out, req.noreply, "STORED");
    case Stored::Exists: return reply(out, req.noreply, "EXISTS");
    case Stored::NotFound: return reply(out, req.noreply, "NOT_FOUND");
    case Stored::NotStored: return reply(out, req.noreply, "NOT_STORED");
    case Stored::NoMemory: return reply(out, req.noreply, "SERVER_ERROR out of memory storing object");
  }
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
