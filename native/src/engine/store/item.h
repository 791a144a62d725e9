// One cached item: a 64-byte header followed by the key and the value (the "\r\n" that ends it
// on the wire is added when it is sent: two bytes less per item), then, only for an item whose
// CAS a client chose (meta `E`), that CAS in 8 bytes. Reference-counted: the table holds one
// reference, and every reply that is being written holds one, so a value deleted or replaced
// meanwhile stays valid until sent.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mcha {

struct Item {
  Item* hnext;        // hash chain
  Item* prev;         // SIEVE queue, towards the newest
  Item* next;         // SIEVE queue, towards the oldest
  uint64_t version;   // hybrid logical clock; the CAS unique clients see unless kExplicitCas
  uint64_t touched;   // orders touches of this version on both replicas (touch keeps the version)
  uint32_t exptime;   // absolute unix seconds, 0 never
  uint32_t flags;
  uint32_t nvalue;    // value length
  uint32_t refcount;  // atomic: taken under the store lock, dropped on any thread
  uint32_t origin;    // node that wrote this version
  uint8_t nkey;
  uint8_t bits;
  uint16_t atime;     // last access, in seconds after the second the version was made (saturating)
  char bytes[];       // key, then value, then the explicit CAS if kExplicitCas

  static constexpr uint8_t kVisited = 1;  // SIEVE: read since the hand last passed
  static constexpr uint8_t kFetched = 2;  // read by a client since stored
  static constexpr uint8_t kLinked = 4;   // in the table
  // Meta protocol state (memcached's ITEM_STALE, ITEM_TOKEN_SENT, ITEM_KEY_BINARY).
  static constexpr uint8_t kStale = 8;         // md I, or ms I with an older CAS
  static constexpr uint8_t kWinSent = 16;      // a client was handed the W (recache) token
  static constexpr uint8_t kKeyBinary = 32;    // the key came in base64 and is returned that way
  static constexpr uint8_t kExplicitCas = 64;  // 8 bytes after the value hold the CAS (meta E)
  // What a replication record carries of these, and what a rewrite of the item keeps.
  static constexpr uint8_t kMetaBits = kStale | kWinSent | kKeyBinary;

  const char* key() const { return bytes; }
  char* value() { return bytes + nkey; }
  const char* value() const { return bytes + nkey; }
  uint64_t explicit_cas() const {
    if (!(bits & kExplicitCas)) return 0;
    uint64_t v;
    memcpy(&v, bytes + nkey + nvalue, sizeof(v));
    return v;
  }
  // The CAS unique clients see and compare against: the one a client chose, else the version
  // (0 when CAS is disabled with -C).
  uint64_t cas(bool cas_enabled) const {
    if (bits & kExplicitCas) return explicit_cas();
    return cas_enabled ? version : 0;
  }
  size_t total_size() const { return sizeof(Item) + nkey + nvalue + (bits & kExplicitCas ? sizeof(uint64_t) : 0); }
};

// memcached's header is 56 bytes (48 + CAS); replication's touch stamp costs 8 more.
static_assert(sizeof(Item) == 64, "the item header is one cache line");

// Versions are milliseconds * 1024 + a counter: the second an item version was made.
inline uint32_t stored_second(uint64_t version) { return static_cast<uint32_t>(version / 1024 / 1000); }

// The unix second of an item's last access (memcached's it->time).
inline uint32_t last_access(const Item* it) { return stored_second(it->version) + it->atime; }

// Records an access at `second` (a read that bumps, or a copy keeping an older access time).
inline void set_last_access(Item* it, uint32_t second) {
  uint32_t base = stored_second(it->version);
  uint32_t d = second > base ? second - base : 0;
  it->atime = static_cast<uint16_t>(d > 0xffff ? 0xffff : d);
}

// Bytes memcached needs for an item (header, CAS, key + NUL, flags suffix, value + "\r\n"):
// -I applies to this, and `me` shows it as size=.
inline size_t memcached_item_size(size_t nkey, uint32_t flags, size_t nvalue, bool cas) {
  return 48 + (cas ? 8 : 0) + nkey + 1 + (flags != 0 ? 4 : 0) + nvalue + 2;
}

// memcached's slab_chunk_size_max (half a 1 MB page): a larger item is chunked, which incr,
// decr and SASL data refuse.
constexpr size_t kSlabChunkMax = 512 * 1024;

}  // namespace mcha
