// memcached 1.6.18's meta commands (mg ms md ma me) over the store, with the flags of
// doc/protocol.txt at 1.6.45 that 1.6.18 lacks (E, md x, ms s and N, mg C). Replies are built
// by walking the request's flags in order, as memcached does, so return flags come back in
// request order and T, N take effect at their place. Twin of src/engine/ts/commands/meta.ts.
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/commands/execute.h"
#include "engine/store/clock.h"
#include "engine/store/slab_classes.h"
#include "protocol/base64.h"

namespace mcha {
namespace {

// memcached's wbuf: one reply line. The longest possible line (17 flags, one of them a key of
// 250 bytes in base64, an opaque of 32, numbers of 20 digits) stays far below the capacity.
class Line {
 public:
  void put(std::string_view s) {
    memcpy(buf_ + n_, s.data(), s.size());
    n_ += s.size();
  }
  void flag(char c) {
    buf_[n_++] = ' ';
    buf_[n_++] = c;
  }
  void num(uint64_t v) { n_ += static_cast<size_t>(snprintf(buf_ + n_, 24, "%llu", static_cast<unsigned long long>(v))); }
  // " k<key>", a binary key in base64 followed by " b".
  void key(std::string_view key, bool binary) {
    flag('k');
    if (!binary) return put(key);
    n_ += encode_base64(key.data(), key.size(), buf_ + n_);
    put(" b");
  }
  void opaque(std::string_view token) {
    buf_[n_++] = ' ';
    put(token);
  }
  std::string_view view() const { return std::string_view(buf_, n_); }

 private:
  char buf_[2048];
  size_t n_ = 0;
};

bool opaque_ok(std::string_view token) { return token.size() <= kMetaMaxOpaque; }

}  // namespace

void Commands::meta(const Request& req, Writer& out) {
  switch (req.meta.cmd) {
    case MetaCmd::Get: return meta_get(req.meta, out);
    case MetaCmd::Delete: return meta_delete(req.meta, out);
    case MetaCmd::Arith: return meta_arith(req.meta, out);
    case MetaCmd::Debug: return meta_debug(req.meta, out);
    case MetaCmd::Set: return;  // admit_meta_set / complete_meta_set
  }
}

namespace {

// memcached marks the access when it looks the item up, unless a flag needs the state before
// it (h, l) or changes the item (N, T, R): then only after the flags, which a bad one never
// reaches.
bool access_marked_late(const MetaRequest& m) {
  for (size_t i = 0; i < m.nflags; i++) {
    switch (m.flags[i][0]) {
      case 'h': case 'l': case 'N': case 'T': case 'R': return true;
    }
  }
  return false;
}

}  // namespace

void Commands::meta_get(const MetaRequest& m, Writer& out) {
  Store& st = h_.store;
  bool cas_enabled = h_.settings.cas_enabled;
  uint32_t now = now_seconds();
  Item* it = st.get(m.key, now);
  bool created = false;
  if (!it && m.vivify) {
    // The stub memcached links on a miss: no value, flags 0, its TTL set where N stands.
    Item* stub = st.alloc(m.key, 0, 0, 0, m.has_cas_in ? m.cas_in : 0);
    if (stub) {
      stamp(stub);
      if (st.put(stub, now)) {
        it = stub;
        created = true;
      } else {
        st.release(stub);
      }
    }
  }
  Line l;
  if (!it) {
    c_.cmd_get++;
    c_.get_misses++;
    l.put("EN");
    for (size_t i = 0; i < m.nflags; i++) {
      std::string_view f = m.flags[i];
      if (f[0] == 'O') {
        if (!opaque_ok(f)) return out.line(kMetaOpaqueTooLong);
        l.opaque(f);
      } else if (f[0] == 'k') {
        l.key(m.key, m.key_binary);
      }
    }
    if (!m.quiet) out.line(l.view());
    return;
  }
  // C (1.6.45): a client that holds this version already gets no value.
  bool value = m.value && !(m.has_cas && it->cas(cas_enabled) == m.cas);
  if (value) {
    l.put("VA ");
    l.num(it->nvalue);
  } else {
    l.put("HD");
  }
  bool won = false, ttl_set = false, failed = false;
  // h and l show the state before this access.
  bool fetched = it->bits & Item::kFetched;
  uint32_t accessed = last_access(it);
  for (size_t i = 0; i < m.nflags && !failed; i++) {
    std::string_view f = m.flags[i];
    switch (f[0]) {
      case 'T':
        ttl_set = true;
        it->exptime = expiry(m.ttl, now);
        break;
      case 'N':
        if (created) {
          it->exptime = expiry(m.vivify_ttl, now);
          won = true;
        }
        break;
      case 'R':
        if (!(it->bits & Item::kWinSent) && !created && it->exptime != 0 && it->exptime < expiry(m.recache_ttl, now)) won = true;
        break;
      case 's':
        l.flag('s');
        l.num(it->nvalue);
        break;
      case 't':
        l.flag('t');
        if (it->exptime == 0) l.put("-1");
        else l.num(ttl_left(it->exptime, now));
        break;
      case 'c':
        l.flag('c');
        l.num(it->cas(cas_enabled));
        break;
      case 'f':
        l.flag('f');
        l.num(it->flags);
        break;
      case 'l':
        l.flag('l');
        l.num(static_cast<uint32_t>(now - accessed));
        break;
      case 'h':
        l.flag('h');
        l.put(fetched ? "1" : "0");
        break;
      case 'O':
        if (!opaque_ok(f)) failed = true;
        else l.opaque(f);
        break;
      case 'k':
        l.key(std::string_view(it->key(), it->nkey), it->bits & Item::kKeyBinary);
        break;
    }
  }
  if (!failed) {
    // Z before W: a client never sees both.
    if (it->bits & Item::kWinSent) l.flag('Z');
    if (it->bits & Item::kStale) {
      l.flag('X');
      if (!(it->bits & Item::kWinSent)) won = true;
    }
    if (won) {
      l.flag('W');
      it->bits |= Item::kWinSent;
    }
  }
  // Writes go to the peer; the win tokens a read hands out do not (leases are per node).
  if (created) {
    if (h_.log) h_.log->set(it);
  } else if (ttl_set) {
    touch_item(it, it->exptime);
  }
  if (failed) {
    if (!m.no_bump && !access_marked_late(m)) {
      it->bits |= Item::kVisited | Item::kFetched;
      set_last_access(it, now);
    }
    return out.line(kMetaOpaqueTooLong);
  }
  l.put("\r\n");
  out.text(l.view());
  if (value) out.value(it);
  // memcached's reply holds the item until transmitted, value or not.
  out.hold(it);
  if (!m.no_bump) {
    it->bits |= Item::kVisited | Item::kFetched;
    set_last_access(it, now);
  }
  if (ttl_set) {
    c_.cmd_touch++;
    c_.touch_hits++;
  } else {
    c_.cmd_get++;
    c_.get_hits++;
  }
}

const char* Commands::admit_meta_set(const Request& req, Item** item) {
  const MetaRequest& m = req.meta;
  *item = nullptr;
  if (m.error) return m.error;
  size_t size = memcached_item_size(m.key.size(), m.client_flags, static_cast<size_t>(m.datalen), h_.settings.cas_enabled);
  // memcached drops the old value whatever the mode when it cannot take the new one.
  if (size > h_.settings.item_size_max) {
    c_.store_too_large++;
    remove_stale(m.key);
    return "SERVER_ERROR object too large for cache";
  }
  *item = h_.store.alloc(m.key, m.client_flags, 0, static_cast<uint32_t>(m.datalen), m.has_cas_in ? m.cas_in : 0);
  if (!*item) {
    c_.store_no_memory++;
    remove_stale(m.key);
    return "SERVER_ERROR out of memory storing object";
  }
  if (m.key_binary) (*item)->bits |= Item::kKeyBinary;
  return nullptr;
}

void Commands::complete_meta_set(const Request& req, Item* item, bool terminated, Writer& out) {
  const MetaRequest& m = req.meta;
  Store& st = h_.store;
  bool cas_enabled = h_.settings.cas_enabled;
  c_.cmd_set++;
  if (!terminated) {
    st.release(item);
    return out.line("CLIENT_ERROR bad data chunk");
  }
  uint32_t now = now_seconds();
  // The k flag reads the key from the item (the request's view may be stale once the block
  // came in), and store_item may release it: hold it until the reply is written.
  st.retain(item);
  std::string_view key(item->key(), item->nkey);
  StoreArgs a;
  switch (m.mode) {
    case 'E': a.op = StoreOp::Add; break;
    case 'A': a.op = StoreOp::Append; break;
    case 'P': a.op = StoreOp::Prepend; break;
    case 'R': a.op = StoreOp::Replace; break;
    default: break;
  }
  if (m.has_cas && (a.op == StoreOp::Set || a.op == StoreOp::Replace)) a.op = StoreOp::Cas;
  // With -C memcached keeps no CAS on the new item: the request's C compares as none.
  a.cas = m.has_cas && cas_enabled ? m.cas : 0;
  a.stale_on_older = m.stale;
  // N (1.6.45): append and prepend create the item on a miss, with N's TTL instead of T's.
  a.vivify = (a.op == StoreOp::Append || a.op == StoreOp::Prepend) && m.vivify;
  a.cas_in = m.has_cas_in ? m.cas_in : 0;
  if (a.vivify) item->exptime = expiry(m.vivify_ttl, now);
  else if (m.has_ttl) item->exptime = expiry(m.ttl, now);
  StoreResult res = store_item(a, item, now);
  if (res.status == Stored::NoMemory) {
    st.release(item);
    return out.line("SERVER_ERROR out of memory storing object");
  }
  if (res.status == Stored::Stored && m.quiet) return st.release(item);
  Line l;
  l.put(res.status == Stored::Stored ? "HD" : res.status == Stored::Exists ? "EX" : res.status == Stored::NotFound ? "NF" : "NS");
  for (size_t i = 0; i < m.nflags; i++) {
    switch (m.flags[i][0]) {
      case 'O': l.opaque(m.flags[i]); break;
      case 'k': l.key(key, m.key_binary); break;
      case 'c':
        l.flag('c');
        l.num(res.cas);
        break;
      case 's':
        l.flag('s');
        l.num(res.nvalue);
        break;
    }
  }
  out.line(l.view());
  st.release(item);
}

void Commands::meta_delete(const MetaRequest& m, Writer& out) {
  Store& st = h_.store;
  bool cas_enabled = h_.settings.cas_enabled;
  uint32_t now = now_seconds();
  Line tail;
  for (size_t i = 0; i < m.nflags; i++) {
    if (m.flags[i][0] == 'O') tail.opaque(m.flags[i]);
    else if (m.flags[i][0] == 'k') tail.key(m.key, m.key_binary);
  }
  const char* code = "HD";
  Item* it = st.get(m.key, now);
  if (!it) {
    c_.delete_misses++;
    code = "NF";
  } else if (m.has_cas && it->cas(cas_enabled) != m.cas) {
    c_.delete_misses++;
    code = "EX";
  } else {
    uint32_t exptime = m.has_ttl ? expiry(m.ttl, now) : 0;
    if (m.remove_value) {
      // x (1.6.45): an empty value in place of the item, keeping its CAS unless E gives one.
      uint64_t cas = m.has_cas_in ? m.cas_in : it->cas(cas_enabled);
      Item* empty = st.alloc(m.key, m.client_flags, exptime, 0, cas);
      if (!empty) return out.line("SERVER_ERROR out of memory");
      stamp(empty);
      if (!st.put(empty, now)) {
        st.release(empty);
        return out.line("SERVER_ERROR out of memory");
      }
      it = empty;
    }
    if (m.stale) {
      // Marking stale is a write: a new CAS (E's if given), the win up for grabs again.
      Item* marked = rewrite(it, it->nvalue, Item::kKeyBinary | Item::kFetched, m.has_cas_in ? m.cas_in : 0);
      if (!marked) return out.line("SERVER_ERROR out of memory");
      if (m.has_ttl) marked->exptime = exptime;
      marked->bits |= Item::kStale;
      if (!st.put_rewrite(marked, now)) {
        st.release(marked);
        return out.line("SERVER_ERROR out of memory");
      }
      if (h_.log) h_.log->set(marked);
    } else {
      c_.delete_hits++;
      if (m.remove_value) {
        if (h_.log) h_.log->set(it);
      } else {
        remove_stale(m.key);
      }
    }
    if (m.quiet) return;
  }
  out.text(code, 2);
  out.line(tail.view());
}

void Commands::meta_arith(const MetaRequest& m, Writer& out) {
  Store& st = h_.store;
  bool cas_enabled = h_.settings.cas_enabled;
  uint32_t now = now_seconds();
  bool incr = m.mode != 'D' && m.mode != '-';
  std::string digits;
  Item* it = nullptr;
  bool in_place = false, created = false;
  Line l;
  Delta r = apply_delta(m.key, incr, m.delta, m.has_cas ? m.cas : 0, m.has_cas_in ? m.cas_in : 0, out, &it, digits, in_place);
  switch (r) {
    case Delta::Ok: break;
    case Delta::NonNumeric: return out.line("CLIENT_ERROR cannot increment or decrement non-numeric value");
    case Delta::NoMemory: return out.line("SERVER_ERROR out of memory");
    case Delta::CasMismatch: l.put("EX"); break;
    case Delta::NotFound:
      if (!m.vivify) {
        if (incr) c_.incr_misses++;
        else c_.decr_misses++;
        l.put("NF");
        break;
      }
      digits = std::to_string(m.initial);
      it = st.alloc(m.key, 0, 0, static_cast<uint32_t>(digits.size()), m.has_cas_in ? m.cas_in : 0);
      if (it) {
        memcpy(it->value(), digits.data(), digits.size());
        stamp(it);
        if (!st.put(it, now)) {
          st.release(it);
          it = nullptr;
        }
      }
      if (!it) return out.line("SERVER_ERROR Out of memory allocating new item");
      created = true;
      break;
  }
  bool failed = false;
  if (it) {
    if (m.value) {
      l.put("VA ");
      l.num(digits.size());
    } else {
      l.put("HD");
    }
    // memcached applies T to the item it modified; when the number grew, that is the old
    // item it replaced, so the stored one keeps its TTL while this reply shows the new one.
    uint32_t shown = it->exptime;
    for (size_t i = 0; i < m.nflags && !failed; i++) {
      std::string_view f = m.flags[i];
      switch (f[0]) {
        case 'c':
          l.flag('c');
          l.num(it->cas(cas_enabled));
          break;
        case 't':
          l.flag('t');
          if (shown == 0) l.put("-1");
          else l.num(ttl_left(shown, now));
          break;
        case 'T':
          shown = expiry(m.ttl, now);
          if (in_place || created) it->exptime = shown;
          break;
        case 'N':
          if (created) it->exptime = shown = expiry(m.vivify_ttl, now);
          break;
        case 'O':
          if (!opaque_ok(f)) failed = true;
          else l.opaque(f);
          break;
        case 'k': l.key(m.key, m.key_binary); break;
      }
    }
    if (h_.log) h_.log->set(it);
    if (m.value) {
      l.put("\r\n");
      l.put(digits);
    }
  } else {
    for (size_t i = 0; i < m.nflags && !failed; i++) {
      std::string_view f = m.flags[i];
      if (f[0] == 'O') {
        if (!opaque_ok(f)) failed = true;
        else l.opaque(f);
      } else if (f[0] == 'k') {
        l.key(m.key, m.key_binary);
      }
    }
  }
  if (failed) return out.line(kMetaOpaqueTooLong);
  // 1.6.18 quiets only the changed number, not the item it created.
  if (r == Delta::Ok && m.quiet) return;
  out.line(l.view());
}

void Commands::meta_debug(const MetaRequest& m, Writer& out) {
  c_.cmd_meta++;
  uint32_t now = now_seconds();
  Item* it = h_.store.get(m.key, now);
  if (!it) return out.line("EN");
  bool cas_enabled = h_.settings.cas_enabled;
  Line l;
  l.put("ME ");
  std::string_view key(it->key(), it->nkey);
  // memcached re-encodes a binary key here without the " b" that k adds.
  if (it->bits & Item::kKeyBinary) {
    char enc[encoded_base64_size(255)];
    l.put(std::string_view(enc, encode_base64(key.data(), key.size(), enc)));
  } else {
    l.put(key);
  }
  size_t size = memcached_item_size(it->nkey, it->flags, it->nvalue, cas_enabled);
  char rest[160];
  int n = snprintf(rest, sizeof(rest), " exp=%d la=%llu cas=%llu fetch=%s cls=%u size=%lu", it->exptime == 0 ? -1 : static_cast<int>(0u - ttl_left(it->exptime, now)),
                   static_cast<unsigned long long>(static_cast<uint32_t>(now - last_access(it))), static_cast<unsigned long long>(it->cas(cas_enabled)),
                   it->bits & Item::kFetched ? "yes" : "no", slab_class(size), static_cast<unsigned long>(size));
  l.put(std::string_view(rest, static_cast<size_t>(n)));
  out.line(l.view());
}

}  // namespace mcha
