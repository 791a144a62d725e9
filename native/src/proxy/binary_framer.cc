#include "proxy/binary_framer.h"

#include "proxy/request_framer.h"

namespace mcha {
using namespace binary;
namespace {

constexpr size_t kBinaryKeyMaxLength = 250;

uint16_t load_u16(const char* p) { return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1])); }

// The loud form of a quiet opcode (the opcode itself when it is not quiet).
uint8_t loud_of(uint8_t op) {
  switch (op) {
    case kGetQ: return kGet;
    case kGetKQ: return kGetK;
    case kSetQ: return kSet;
    case kAddQ: return kAdd;
    case kReplaceQ: return kReplace;
    case kDeleteQ: return kDelete;
    case kIncrementQ: return kIncrement;
    case kDecrementQ: return kDecrement;
    case kQuitQ: return kQuit;
    case kFlushQ: return kFlush;
    case kAppendQ: return kAppend;
    case kPrependQ: return kPrepend;
    case kGatQ: return kGat;
    case kGatKQ: return kGatK;
    default: return op;
  }
}

}  // namespace

BinaryFramed frame_binary(const char* p, size_t n, size_t off, size_t max_value, BinaryRequest& out) {
  if (n - off < kHeaderLength) return BinaryFramed::NeedMore;
  const char* h = p + off;
  if (static_cast<uint8_t>(h[0]) != kRequestMagic) return BinaryFramed::Other;
  uint8_t op = static_cast<uint8_t>(h[1]);
  size_t keylen = load_u16(h + 2);
  size_t extlen = static_cast<uint8_t>(h[4]);
  size_t bodylen = load_u32(h + 8);
  bool cas = load_u32(h + 16) != 0 || load_u32(h + 20) != 0;
  // dispatch_bin_command's checks, in its order: anything refused is the TypeScript path's.
  if (keylen + extlen > bodylen || keylen > kBinaryKeyMaxLength) return BinaryFramed::Other;
  uint8_t loud = loud_of(op);
  size_t vlen = 0;
  bool ok = false;
  bool retry = false;
  switch (loud) {
    case kNoop:
      if (extlen != 0 || keylen != 0 || bodylen != 0) return BinaryFramed::Other;
      out.start = off;
      out.end = off + kHeaderLength;
      out.opcode = op;
      return BinaryFramed::Noop;
    case kSet:
    case kAdd:
    case kReplace:
      ok = extlen == 8 && keylen != 0 && bodylen >= keylen + 8;
      vlen = bodylen - keylen - extlen;
      retry = loud == kSet && !cas;
      break;
    case kGet:
    case kGetK:
      ok = extlen == 0 && bodylen == keylen && keylen > 0;
      retry = true;
      break;
    case kDelete:
      ok = keylen > 0 && extlen == 0 && bodylen == keylen;
      retry = !cas;
      break;
    case kIncrement:
    case kDecrement:
      ok = keylen > 0 && extlen == 20 && bodylen == keylen + extlen;
      break;
    case kAppend:
    case kPrepend:
      ok = keylen > 0 && extlen == 0;
      vlen = bodylen - keylen;
      break;
    case kTouch:
    case kGat:
    case kGatK:
      ok = extlen == 4 && keylen != 0;
      retry = true;
      break;
    default:
      return BinaryFramed::Other;
  }
  if (!ok || vlen > max_value) return BinaryFramed::Other;
  size_t keyed = kHeaderLength + extlen + keylen;
  if (n - off < keyed + vlen) return BinaryFramed::NeedMore;
  out.start = off;
  out.end = off + keyed + vlen;
  out.opcode = op;
  out.loud = loud;
  out.quiet = loud != op;
  out.retryable = retry;
  out.keyed = keyed;
  out.body = static_cast<uint32_t>(extlen + keylen + vlen);
  out.hash = key_hash(h + kHeaderLength + extlen, keylen);
  return BinaryFramed::Keyed;
}

bool binary_quiet_drops(uint8_t opcode, const char* p, size_t n) {
  if (n < kHeaderLength) return false;
  uint16_t status = load_u16(p + 6);
  bool read = opcode == kGetQ || opcode == kGetKQ || opcode == kGatQ || opcode == kGatKQ;
  return read ? status == static_cast<uint16_t>(Status::KeyNotFound) : status == static_cast<uint16_t>(Status::Success);
}

}  // namespace mcha
