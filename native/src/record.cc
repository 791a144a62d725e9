#include "record.h"

#include <cstdlib>
#include <cstring>

namespace mcha {
namespace {

constexpr size_t kMaxKey = 250;

template <typename T>
void put(char* p, T v) {
  memcpy(p, &v, sizeof(T));
}

template <typename T>
T get(const char* p) {
  T v;
  memcpy(&v, p, sizeof(T));
  return v;
}

char* header(RecordBuffer& out, size_t n, RecordKind kind, uint8_t nkey, uint32_t origin, uint64_t version) {
  char* p = out.append(n);
  if (!p) return nullptr;
  p[0] = static_cast<char>(kind);
  p[1] = static_cast<char>(nkey);
  put<uint32_t>(p + 2, origin);
  put<uint64_t>(p + 6, version);
  return p;
}

// Touches of one version: the later touch wins; simultaneous ones keep the later expiry (0 = never).
void merge_touch(Item* it, uint32_t exptime, uint64_t touched) {
  bool later = exptime != it->exptime && it->exptime != 0 && (exptime == 0 || exptime > it->exptime);
  if (touched > it->touched || (touched == it->touched && later)) {
    it->exptime = exptime;
    it->touched = touched;
  }
}

}  // namespace

RecordBuffer::~RecordBuffer() { free(p_); }

char* RecordBuffer::append(size_t n) {
  if (len_ + n > cap_) {
    size_t cap = cap_ ? cap_ * 2 : 64 * 1024;
    while (cap < len_ + n) cap *= 2;
    char* bigger = static_cast<char*>(realloc(p_, cap));
    if (!bigger) return nullptr;
    p_ = bigger;
    cap_ = cap;
  }
  char* at = p_ + len_;
  len_ += n;
  return at;
}

void RecordBuffer::clear(size_t keep) {
  len_ = 0;
  if (cap_ > keep) {
    free(p_);
    p_ = nullptr;
    cap_ = 0;
  }
}

char* RecordBuffer::release() {
  char* p = p_;
  p_ = nullptr;
  len_ = cap_ = 0;
  return p;
}

bool encode_set(RecordBuffer& out, const Item* it) {
  char* p = header(out, kSetFixed + it->nkey + it->nvalue, RecordKind::Set, it->nkey, it->origin, it->version);
  if (!p) return false;
  put<uint32_t>(p + 14, it->flags);
  put<uint32_t>(p + 18, it->exptime);
  put<uint64_t>(p + 22, it->touched);
  put<uint32_t>(p + 30, it->nvalue);
  memcpy(p + kSetFixed, it->key(), it->nkey);
  memcpy(p + kSetFixed + it->nkey, it->value(), it->nvalue);
  return true;
}

bool encode_delete(RecordBuffer& out, std::string_view key, uint64_t version, uint32_t origin) {
  char* p = header(out, kRecordHeader + key.size(), RecordKind::Delete, static_cast<uint8_t>(key.size()), origin, version);
  if (!p) return false;
  memcpy(p + kRecordHeader, key.data(), key.size());
  return true;
}

bool encode_touch(RecordBuffer& out, const Item* it) {
  char* p = header(out, kTouchFixed + it->nkey, RecordKind::Touch, it->nkey, it->origin, it->version);
  if (!p) return false;
  put<uint32_t>(p + 14, it->exptime);
  put<uint64_t>(p + 18, it->touched);
  memcpy(p + kTouchFixed, it->key(), it->nkey);
  return true;
}

bool encode_flush(RecordBuffer& out, uint64_t version, uint32_t origin) {
  return header(out, kRecordHeader, RecordKind::Flush, 0, origin, version) != nullptr;
}

bool encode_flush_at(RecordBuffer& out, uint32_t oldest_live, uint64_t version, uint32_t origin) {
  char* p = header(out, kFlushAtSize, RecordKind::FlushAt, 0, origin, version);
  if (!p) return false;
  put<uint32_t>(p + 14, oldest_live);
  return true;
}

const char* apply_records(const char* p, size_t n, Store& store, VersionClock& clock, const Settings& settings, uint64_t now_ms) {
  uint32_t now = static_cast<uint32_t>(now_ms / 1000);
  Tombstones* tombs = store.tombstones();
  size_t at = 0;
  while (at < n) {
    size_t left = n - at;
    if (left < kRecordHeader) return "truncated record header";
    const char* r = p + at;
    auto kind = static_cast<RecordKind>(r[0]);
    size_t nkey = static_cast<uint8_t>(r[1]);
    uint32_t origin = get<uint32_t>(r + 2);
    uint64_t version = get<uint64_t>(r + 6);
    if ((kind == RecordKind::Set || kind == RecordKind::Delete || kind == RecordKind::Touch) && (nkey == 0 || nkey > kMaxKey)) {
      return "bad key length";
    }
    clock.observe(version);
    switch (kind) {
      case RecordKind::Set: {
        if (left < kSetFixed) return "truncated record";
        uint32_t nvalue = get<uint32_t>(r + 30);
        if (left - kSetFixed < nkey + static_cast<size_t>(nvalue)) return "truncated record";
        uint32_t flags = get<uint32_t>(r + 14);
        uint32_t exptime = get<uint32_t>(r + 18);
        uint64_t touched = get<uint64_t>(r + 22);
        std::string_view key(r + kSetFixed, nkey);
        const char* value = r + kSetFixed + nkey;
        at += kSetFixed + nkey + nvalue;
        clock.observe(touched);
        if (version < store.flushed_below()) break;
        const Tombstone* t = tombs ? tombs->get(key) : nullptr;
        if (t && !is_newer(version, origin, t->version, t->origin)) break;
        uint64_t h = hash_key(key.data(), key.size());
        Item* cur = store.raw(key, h);
        if (cur && cur->version == version && cur->origin == origin) {
          merge_touch(cur, exptime, touched);
          break;
        }
        if (cur && !is_newer(version, origin, cur->version, cur->origin)) break;
        if (t) tombs->lift(key);
        // An older value must not outlive a newer one this node cannot hold: a miss is allowed, stale data is not.
        if (memcached_item_size(nkey, flags, nvalue, settings.cas_enabled) > settings.item_size_max) {
          store.remove(key);
          break;
        }
        Item* it = store.alloc(key, flags, exptime, nvalue);
        if (!it) {
          store.remove(key);
          break;
        }
        memcpy(it->value(), value, nvalue);
        it->version = version;
        it->origin = origin;
        it->touched = touched;
        if (!store.put(it, now, h)) {
          store.remove(key);
          store.release(it);
        }
        break;
      }
      case RecordKind::Delete: {
        if (left - kRecordHeader < nkey) return "truncated record";
        std::string_view key(r + kRecordHeader, nkey);
        at += kRecordHeader + nkey;
        Item* cur = store.raw(key);
        if (cur && !is_newer(version, origin, cur->version, cur->origin)) break;
        if (cur) store.remove(key);
        if (tombs) tombs->lay(key, version, origin, now_ms);
        break;
      }
      case RecordKind::Touch: {
        if (left < kTouchFixed || left - kTouchFixed < nkey) return "truncated record";
        uint32_t exptime = get<uint32_t>(r + 14);
        uint64_t touched = get<uint64_t>(r + 18);
        std::string_view key(r + kTouchFixed, nkey);
        at += kTouchFixed + nkey;
        clock.observe(touched);
        Item* cur = store.raw(key);
        if (cur && cur->version == version && cur->origin == origin) merge_touch(cur, exptime, touched);
        break;
      }
      case RecordKind::Flush:
        at += kRecordHeader;
        store.flush_all(version);
        break;
      case RecordKind::FlushAt:
        if (left < kFlushAtSize) return "truncated record";
        store.flush_at(get<uint32_t>(r + 14), version);
        at += kFlushAtSize;
        break;
      default:
        return "unknown record kind";
    }
  }
  return nullptr;
}

}  // namespace mcha
