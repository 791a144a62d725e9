#include "engine/replica/codec.h"

#include <cstdlib>
#include <cstring>

namespace mcha {
namespace {

char* header(RecordBuffer& out, size_t n, RecordKind kind, uint8_t nkey, uint32_t origin, uint64_t version) {
  char* p = out.append(n);
  if (!p) return nullptr;
  p[0] = static_cast<char>(kind);
  p[1] = static_cast<char>(nkey);
  put_le<uint32_t>(p + 2, origin);
  put_le<uint64_t>(p + 6, version);
  return p;
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

uint8_t record_meta_bits(const Item* it) {
  return static_cast<uint8_t>((it->bits & Item::kStale ? kRecordStale : 0) | (it->bits & Item::kWinSent ? kRecordWinSent : 0) |
                              (it->bits & Item::kKeyBinary ? kRecordKeyBinary : 0));
}

uint8_t item_meta_bits(uint8_t record_bits) {
  return static_cast<uint8_t>((record_bits & kRecordStale ? Item::kStale : 0) | (record_bits & kRecordWinSent ? Item::kWinSent : 0) |
                              (record_bits & kRecordKeyBinary ? Item::kKeyBinary : 0));
}

bool encode_set(RecordBuffer& out, const Item* it) {
  uint8_t meta = record_meta_bits(it);
  uint64_t cas = it->explicit_cas();
  bool plain = meta == 0 && cas == 0;
  size_t fixed = plain ? kSetFixed : kMetaSetFixed;
  char* p = header(out, fixed + it->nkey + it->nvalue, plain ? RecordKind::Set : RecordKind::MetaSet, it->nkey, it->origin, it->version);
  if (!p) return false;
  put_le<uint32_t>(p + 14, it->flags);
  put_le<uint32_t>(p + 18, it->exptime);
  put_le<uint64_t>(p + 22, it->touched);
  put_le<uint32_t>(p + 30, it->nvalue);
  if (!plain) {
    p[kSetFixed] = static_cast<char>(meta);
    put_le<uint64_t>(p + kSetFixed + 1, cas);
  }
  memcpy(p + fixed, it->key(), it->nkey);
  memcpy(p + fixed + it->nkey, it->value(), it->nvalue);
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
  put_le<uint32_t>(p + 14, it->exptime);
  put_le<uint64_t>(p + 18, it->touched);
  memcpy(p + kTouchFixed, it->key(), it->nkey);
  return true;
}

bool encode_flush(RecordBuffer& out, uint64_t version, uint32_t origin) {
  return header(out, kRecordHeader, RecordKind::Flush, 0, origin, version) != nullptr;
}

bool encode_flush_at(RecordBuffer& out, uint32_t oldest_live, uint64_t version, uint32_t origin) {
  char* p = header(out, kFlushAtSize, RecordKind::FlushAt, 0, origin, version);
  if (!p) return false;
  put_le<uint32_t>(p + 14, oldest_live);
  return true;
}

}  // namespace mcha
