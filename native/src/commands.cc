#include "commands.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "numbers.h"

namespace mcha {
namespace {

constexpr int32_t kMaxRelativeExptime = 60 * 60 * 24 * 30;

void reply(Writer& out, bool noreply, const char* line) {
  if (!noreply) out.line(line);
}

void stat(Writer& out, const char* name, const std::string& value) {
  out.text("STAT ", 5);
  out.text(name, strlen(name));
  out.text(" ", 1);
  out.text(value);
  out.text("\r\n", 2);
}

void stat(Writer& out, const char* name, uint64_t value) { stat(out, name, std::to_string(value)); }

std::string seconds(const struct timeval& tv) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec), static_cast<long>(tv.tv_usec));
  return buf;
}

}  // namespace

uint32_t now_seconds() { return static_cast<uint32_t>(time(nullptr)); }

// memcached's exptime rules as an absolute unix second: 0 never, up to 30 days relative,
// larger absolute, negative already expired. 1 means "long ago".
uint32_t absolute_expiry(int32_t exptime, uint32_t now) {
  if (exptime == 0) return 0;
  if (exptime < 0) return 1;
  if (exptime > kMaxRelativeExptime) return static_cast<uint32_t>(exptime) <= now ? 1 : static_cast<uint32_t>(exptime);
  return now + static_cast<uint32_t>(exptime);
}

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
    case Kind::Error: reply(out, req.noreply, req.message); return Outcome::Continue;
    case Kind::Store: break;
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
  item->exptime = absolute_expiry(req.exptime, now);
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
      uint32_t nvalue = old->nvalue + item->nvalue;
      if (memcached_item_size(key.size(), old->flags, nvalue, h_.settings.cas_enabled) > h_.settings.item_size_max) {
        st.release(item);
        return "NOT_STORED";
      }
      Item* joined = st.alloc(key, old->flags, old->exptime, nvalue);
      if (!joined) {
        st.release(item);
        return "SERVER_ERROR out of memory storing object";
      }
      const Item* first = req.op == StoreOp::Append ? old : item;
      const Item* second = req.op == StoreOp::Append ? item : old;
      memcpy(joined->value(), first->value(), first->nvalue);
      memcpy(joined->value() + first->nvalue, second->value(), second->nvalue);
      st.release(item);
      item = joined;
      break;
    }
    case StoreOp::Cas:
      if (!old) {
        c_.cas_misses++;
        st.release(item);
        return "NOT_FOUND";
      }
      if (req.cas == 0 || !h_.settings.cas_enabled || req.cas != old->version) {
        c_.cas_badval++;
        st.release(item);
        return "EXISTS";
      }
      c_.cas_hits++;
      break;
    case StoreOp::Set:
      break;
  }
  item->version = item->touched = h_.clock.next();
  item->origin = h_.node_id;
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
  uint32_t new_exptime = req.touch ? absolute_expiry(req.exptime, now) : 0;
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
    out.text("VALUE ", 6);
    out.text(key);
    out.text(" ", 1);
    out.number(it->flags);
    out.text(" ", 1);
    out.number(it->nvalue);
    if (req.with_cas) {
      out.text(" ", 1);
      out.number(cas ? it->version : 0);
    }
    out.text("\r\n", 2);
    out.value(it);
  }
  out.line("END");
}

// Returns the line to send, or nullptr when the new number was written already.
const char* Commands::arith(const Request& req, Writer& out) {
  Store& st = h_.store;
  uint32_t now = now_seconds();
  Item* old = st.get(req.key, now);
  if (!old) {
    if (req.incr) c_.incr_misses++;
    else c_.decr_misses++;
    return "NOT_FOUND";
  }
  uint64_t current;
  if (old->nvalue == 0 || !parse_u64(old->value(), old->nvalue, current)) {
    return "CLIENT_ERROR cannot increment or decrement non-numeric value";
  }
  if (req.incr) c_.incr_hits++;
  else c_.decr_hits++;
  uint64_t next = req.incr ? current + req.delta : (req.delta > current ? 0 : current - req.delta);
  std::string digits = std::to_string(next);
  // memcached rewrites a number that still fits in place, padding with spaces.
  uint32_t width = old->nvalue;
  uint32_t len = digits.size() <= width ? width : static_cast<uint32_t>(digits.size());
  Item* it = st.alloc(req.key, old->flags, old->exptime, len);
  if (!it) return "SERVER_ERROR out of memory";
  memset(it->value(), ' ', len);
  memcpy(it->value(), digits.data(), digits.size());
  it->version = it->touched = h_.clock.next();
  it->origin = h_.node_id;
  it->bits |= Item::kVisited;
  if (!st.put(it, now)) {
    st.release(it);
    return "SERVER_ERROR out of memory";
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
  touch_item(it, absolute_expiry(req.exptime, now));
  it->bits |= Item::kVisited;
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
  // memcached: items last stored at or before (due - 1) vanish once that second has come.
  uint32_t oldest_live = req.exptime > 0 ? absolute_expiry(req.exptime, now) - 1 : 0;
  if (req.exptime <= 0 || (oldest_live != 0 && oldest_live <= now)) {
    uint64_t version = h_.clock.next();
    h_.store.flush_all(version);
    if (h_.log) h_.log->flush(version);
  }
  if (req.exptime > 0) {
    uint64_t version = h_.clock.next();
    h_.store.flush_at(oldest_live, version);
    if (h_.log) h_.log->flush_at(oldest_live, version);
  }
  return "OK";
}

void Commands::stats(const Request& req, Writer& out) {
  std::string_view sub = req.args.empty() ? std::string_view() : req.args[0];
  const Settings& s = h_.settings;
  const StoreCounters& sc = h_.store.counters();
  if (sub == "reset") {
    c_ = CommandCounters();
    h_.connections.total = h_.connections.rejected = h_.connections.bytes_read = h_.connections.bytes_written = 0;
    return out.line("RESET");
  }
  if (sub == "detail") {
    std::string_view mode = req.args.size() >= 2 ? req.args[1] : std::string_view();
    if (mode == "on" || mode == "off") return out.line("OK");
    if (mode == "dump") return out.line("END");
    return out.line("CLIENT_ERROR usage: stats detail on|off|dump");
  }
  if (sub == "replication" && h_.replication_stats) {
    out.text(*h_.replication_stats);
    // Live, unlike the lines above: the end of this node's stream, records not yet drained included.
    stat(out, "offset", h_.log ? h_.log->end() : 0);
    return out.line("END");
  }
  if (sub.empty()) {
    uint32_t now = now_seconds();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const ConnectionCounters& cc = h_.connections;
    stat(out, "pid", static_cast<uint64_t>(getpid()));
    stat(out, "uptime", now - h_.started_at);
    stat(out, "time", now);
    stat(out, "version", s.version);
    stat(out, "pointer_size", 64);
    stat(out, "rusage_user", seconds(ru.ru_utime));
    stat(out, "rusage_system", seconds(ru.ru_stime));
    stat(out, "max_connections", s.max_connections);
    stat(out, "curr_connections", cc.curr);
    stat(out, "total_connections", cc.total);
    stat(out, "rejected_connections", cc.rejected);
    stat(out, "cmd_get", c_.cmd_get);
    stat(out, "cmd_set", c_.cmd_set);
    stat(out, "cmd_flush", c_.cmd_flush);
    stat(out, "cmd_touch", c_.cmd_touch);
    stat(out, "cmd_meta", 0);
    stat(out, "get_hits", c_.get_hits);
    stat(out, "get_misses", c_.get_misses);
    stat(out, "get_expired", sc.expired_on_access);
    stat(out, "get_flushed", sc.flushed_on_access);
    stat(out, "delete_misses", c_.delete_misses);
    stat(out, "delete_hits", c_.delete_hits);
    stat(out, "incr_misses", c_.incr_misses);
    stat(out, "incr_hits", c_.incr_hits);
    stat(out, "decr_misses", c_.decr_misses);
    stat(out, "decr_hits", c_.decr_hits);
    stat(out, "cas_misses", c_.cas_misses);
    stat(out, "cas_hits", c_.cas_hits);
    stat(out, "cas_badval", c_.cas_badval);
    stat(out, "touch_hits", c_.touch_hits);
    stat(out, "touch_misses", c_.touch_misses);
    stat(out, "store_too_large", c_.store_too_large);
    stat(out, "store_no_memory", c_.store_no_memory);
    stat(out, "auth_cmds", 0);
    stat(out, "auth_errors", 0);
    stat(out, "bytes_read", cc.bytes_read);
    stat(out, "bytes_written", cc.bytes_written);
    stat(out, "limit_maxbytes", s.max_bytes);
    stat(out, "accepting_conns", 1);
    stat(out, "threads", 1);
    stat(out, "hash_power_level", static_cast<uint64_t>(__builtin_ctzll(h_.store.buckets())));
    stat(out, "hash_bytes", h_.store.buckets() * sizeof(Item*));
    stat(out, "hash_is_expanding", h_.store.expanding() ? 1 : 0);
    stat(out, "bytes", h_.store.bytes());
    stat(out, "curr_items", h_.store.count());
    stat(out, "total_items", sc.total_items);
    stat(out, "expired_unfetched", sc.expired_unfetched);
    stat(out, "evicted_unfetched", sc.evicted_unfetched);
    stat(out, "evictions", sc.evictions);
    stat(out, "reclaimed", sc.reclaimed);
    stat(out, "crawler_reclaimed", sc.crawler_reclaimed);
    stat(out, "engine", "native");
  } else if (sub == "settings") {
    stat(out, "maxbytes", s.max_bytes);
    stat(out, "maxconns", s.max_connections);
    stat(out, "tcpport", h_.bound_port());
    stat(out, "udpport", 0);
    stat(out, "inter", s.listen);
    stat(out, "verbosity", static_cast<uint64_t>(s.verbosity));
    stat(out, "evictions", s.evictions ? "on" : "off");
    stat(out, "domain_socket", "NULL");
    stat(out, "shutdown_command", s.shutdown_enabled ? "yes" : "no");
    stat(out, "num_threads", s.threads);
    stat(out, "cas_enabled", s.cas_enabled ? "yes" : "no");
    stat(out, "binding_protocol", "ascii");
    stat(out, "item_size_max", s.item_size_max);
    stat(out, "flush_enabled", s.flush_enabled ? "yes" : "no");
    stat(out, "eviction_policy", "sieve");
    stat(out, "engine", "native");
  } else if (sub == "items") {
    if (h_.store.count() > 0) {
      stat(out, "items:1:number", h_.store.count());
      stat(out, "items:1:evicted", sc.evictions);
      stat(out, "items:1:evicted_unfetched", sc.evicted_unfetched);
      stat(out, "items:1:expired_unfetched", sc.expired_unfetched);
      stat(out, "items:1:reclaimed", sc.reclaimed);
      stat(out, "items:1:crawler_reclaimed", sc.crawler_reclaimed);
    }
  } else if (sub == "slabs") {
    stat(out, "active_slabs", 0);
    stat(out, "total_malloced", h_.store.bytes());
  } else if (sub == "sizes") {
    stat(out, "sizes_status", "disabled");
  } else if (sub == "conns") {
    // memcached numbers connections by file descriptor; here the listener is 0, clients from 1.
    uint32_t now = now_seconds();
    std::string listen = "tcp:" + s.listen + ":" + std::to_string(h_.bound_port());
    stat(out, "0:addr", listen);
    stat(out, "0:state", "conn_listening");
    stat(out, "0:secs_since_last_cmd", now - h_.started_at);
    for (const ConnectionInfo& c : h_.open_connections()) {
      std::string id = std::to_string(c.id);
      stat(out, (id + ":addr").c_str(), c.addr);
      stat(out, (id + ":listen_addr").c_str(), listen);
      stat(out, (id + ":state").c_str(), c.state);
      stat(out, (id + ":secs_since_last_cmd").c_str(), now - c.last_command_at);
    }
  } else {
    return out.line("ERROR");
  }
  out.line("END");
}

}  // namespace mcha
