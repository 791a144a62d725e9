// One cached item: a 56-byte header followed by the key and the value (the "\r\n" that ends it
// on the wire is added when it is sent: two bytes less per item). Reference-counted: the table holds one reference, and every reply that
// is being written holds one, so a value deleted or replaced meanwhile stays valid until sent.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mcha {

struct Item {
  Item* hnext;        // hash chain
  Item* prev;         // SIEVE queue, towards the newest
  Item* next;         // SIEVE queue, towards the oldest
  uint64_t version;   // hybrid logical clock; the CAS unique clients see
  uint64_t touched;   // orders touches of this version on both replicas (touch keeps the version)
  uint32_t exptime;   // absolute unix seconds, 0 never
  uint32_t flags;
  uint32_t nvalue;    // value length
  uint32_t refcount;
  uint32_t origin;    // node that wrote this version
  uint8_t nkey;
  uint8_t bits;
  char bytes[];       // key, then value

  static constexpr uint8_t kVisited = 1;  // SIEVE: read since the hand last passed
  static constexpr uint8_t kFetched = 2;  // read by a client since stored
  static constexpr uint8_t kLinked = 4;   // in the table

  const char* key() const { return bytes; }
  char* value() { return bytes + nkey; }
  const char* value() const { return bytes + nkey; }
  size_t total_size() const { return sizeof(Item) + nkey + nvalue; }
};

// memcached's header is 56 bytes (48 + CAS); replication's touch stamp costs 8 more.
static_assert(sizeof(Item) == 64, "the item header is one cache line");

// Bytes memcached needs for an item (header, CAS, key + NUL, flags suffix, value + "\r\n"):
// -I applies to this.
inline size_t memcached_item_size(size_t nkey, uint32_t flags, size_t nvalue, bool cas) {
  return 48 + (cas ? 8 : 0) + nkey + 1 + (flags != 0 ? 4 : 0) + nvalue + 2;
}

}  // namespace mcha
