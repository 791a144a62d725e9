// Replication records, byte for byte the same as the TypeScript engine's
// (src/engine/ts/replica/codec.ts): the layout is documented once, in docs/record-format.md.
// Little endian; a batch is records back to back.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "engine/store/item.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "records are encoded with the host's byte order");

namespace mcha {

enum class RecordKind : uint8_t { Set = 1, Delete = 2, Touch = 3, Flush = 4, FlushAt = 5, MetaSet = 6 };

// Fields are stored unaligned, in the host's (little-endian) byte order.
template <typename T>
inline void put_le(char* p, T v) {
  memcpy(p, &v, sizeof(T));
}

template <typename T>
inline T get_le(const char* p) {
  T v;
  memcpy(&v, p, sizeof(T));
  return v;
}

constexpr size_t kRecordHeader = 14;
constexpr size_t kSetFixed = kRecordHeader + 20;
constexpr size_t kMetaSetFixed = kSetFixed + 9;  // meta bits (u8), explicit cas (u64)
constexpr size_t kTouchFixed = kRecordHeader + 12;
constexpr size_t kFlushAtSize = kRecordHeader + 4;

// A growable byte buffer records are encoded into; its memory can be handed over (to a JS Buffer).
class RecordBuffer {
 public:
  RecordBuffer() = default;
  ~RecordBuffer();
  RecordBuffer(const RecordBuffer&) = delete;
  RecordBuffer& operator=(const RecordBuffer&) = delete;

  // Room for `n` more bytes at the end; nullptr if memory ran out (the record is then dropped).
  char* append(size_t n);
  size_t size() const { return len_; }
  const char* data() const { return p_; }
  void swap(RecordBuffer& o) {
    std::swap(p_, o.p_);
    std::swap(len_, o.len_);
    std::swap(cap_, o.cap_);
  }
  // Gives the bytes away (the caller frees them with free()) and starts empty.
  char* release();
  // Empties it, keeping the memory for the next records (no allocation, no page faults), unless
  // a burst grew it past `keep` bytes: that memory goes back.
  void clear(size_t keep = SIZE_MAX);

 private:
  char* p_ = nullptr;
  size_t len_ = 0, cap_ = 0;
};

// The meta bits of a META_SET record.
constexpr uint8_t kRecordStale = 1, kRecordWinSent = 2, kRecordKeyBinary = 4;
uint8_t record_meta_bits(const Item* it);
// Item bits for a record's meta bits.
uint8_t item_meta_bits(uint8_t record_bits);

// A SET, or a META_SET when the item carries meta state (text writes stay plain SETs).
bool encode_set(RecordBuffer& out, const Item* it);
bool encode_delete(RecordBuffer& out, std::string_view key, uint64_t version, uint32_t origin);
bool encode_touch(RecordBuffer& out, const Item* it);
bool encode_flush(RecordBuffer& out, uint64_t version, uint32_t origin);
bool encode_flush_at(RecordBuffer& out, uint32_t oldest_live, uint64_t version, uint32_t origin);

}  // namespace mcha
