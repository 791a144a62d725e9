#include "engine/replica/apply.h"

#include "engine/replica/codec.h"
#include "protocol/request.h"

namespace mcha {
namespace {

// Touches of one version: the later touch wins; simultaneous ones keep the later expiry (0 = never).
void merge_touch(Item* it, uint32_t exptime, uint64_t touched) {
  bool later = exptime != it->exptime && it->exptime != 0 && (exptime == 0 || exptime > it->exptime);
  if (touched > it->touched || (touched == it->touched && later)) {
    it->exptime = exptime;
    it->touched = touched;
  }
}

}  // namespace

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
    uint32_t origin = get_le<uint32_t>(r + 2);
    uint64_t version = get_le<uint64_t>(r + 6);
    if ((kind == RecordKind::Set || kind == RecordKind::MetaSet || kind == RecordKind::Delete || kind == RecordKind::Touch) &&
        (nkey == 0 || nkey > kKeyMaxLength)) {
      return "bad key length";
    }
    clock.observe(version);
    switch (kind) {
      case RecordKind::Set:
      case RecordKind::MetaSet: {
        size_t fixed = kind == RecordKind::Set ? kSetFixed : kMetaSetFixed;
        if (left < fixed) return "truncated record";
        uint32_t nvalue = get_le<uint32_t>(r + 30);
        if (left - fixed < nkey + static_cast<size_t>(nvalue)) return "truncated record";
        uint32_t flags = get_le<uint32_t>(r + 14);
        uint32_t exptime = get_le<uint32_t>(r + 18);
        uint64_t touched = get_le<uint64_t>(r + 22);
        // A META_SET's state travels with its version: the winner's explicit CAS is what both
        // nodes then show.
        uint8_t meta = kind == RecordKind::Set ? 0 : item_meta_bits(static_cast<uint8_t>(r[kSetFixed]));
        uint64_t explicit_cas = kind == RecordKind::Set ? 0 : get_le<uint64_t>(r + kSetFixed + 1);
        std::string_view key(r + fixed, nkey);
        const char* value = r + fixed + nkey;
        at += fixed + nkey + nvalue;
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
        Item* it = store.alloc(key, flags, exptime, nvalue, explicit_cas);
        if (!it) {
          store.remove(key);
          break;
        }
        memcpy(it->value(), value, nvalue);
        it->bits |= meta;
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
        uint32_t exptime = get_le<uint32_t>(r + 14);
        uint64_t touched = get_le<uint64_t>(r + 18);
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
        store.flush_at(get_le<uint32_t>(r + 14), version);
        at += kFlushAtSize;
        break;
      default:
        return "unknown record kind";
    }
  }
  return nullptr;
}

}  // namespace mcha
