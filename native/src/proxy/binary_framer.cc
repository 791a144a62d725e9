#include "proxy/binary_framer.h"

#include "proxy/request_framer.h"

namespace mcha {
namespace {

constexpr size_t kBinaryKeyMaxLength = 250;

uint16_t be16(const char* p) { return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1])); }
uint32_t be32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) | (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

// The loud form of a quiet opcode (the opcode itself when it is not quiet).
uint8_t loud_of(uint8_t op) {
  switch (op) {
    case 0x09: return 0x00;  // getq
    case 0x0d: return 0x0c;  // getkq
    case 0x11: return 0x01;  // setq
    case 0x12: return 0x02;  // addq
    case 0x13: return 0x03;  // replaceq
    case 0x14: return 0x04;  // deleteq
    case 0x15: return 0x05;  // incrementq
    case 0x16: return 0x06;  // decrementq
    case 0x17: return 0x07;  // quitq
    case 0x18: return 0x08;  // flushq
    case 0x19: return 0x0e;  // appendq
    case 0x1a: return 0x0f;  // prependq
    case 0x1e: return 0x1d;  // gatq
    case 0x24: return 0x23;  // gatkq
    default: return op;
  }
}

}  // namespace

BinaryFramed frame_binary(const char* p, size_t n, size_t off, size_t max_value, BinaryRequest& out) {
  if (n - off < kBinaryHeader) return BinaryFramed::NeedMore;
  const char* h = p + off;
  if (static_cast<uint8_t>(h[0]) != kBinaryRequestMagic) return BinaryFramed::Other;
  uint8_t op = static_cast<uint8_t>(h[1]);
  size_t keylen = be16(h + 2);
  size_t extlen = static_cast<uint8_t>(h[4]);
  size_t bodylen = be32(h + 8);
  bool cas = be32(h + 16) != 0 || be32(h + 20) != 0;
  // dispatch_bin_command's checks, in its order: anything refused is the TypeScript path's.
  if (keylen + extlen > bodylen || keylen > kBinaryKeyMaxLength) return BinaryFramed::Other;
  uint8_t loud = loud_of(op);
  size_t vlen = 0;
  bool ok = false;
  bool retry = false;
  switch (loud) {
    case kBinaryNoop:
      if (extlen != 0 || keylen != 0 || bodylen != 0) return BinaryFramed::Other;
      out.start = off;
      out.end = off + kBinaryHeader;
      out.opcode = op;
      return BinaryFramed::Noop;
    case 0x01:  // set
    case 0x02:  // add
    case 0x03:  // replace
      ok = extlen == 8 && keylen != 0 && bodylen >= keylen + 8;
      vlen = bodylen - keylen - extlen;
      retry = loud == 0x01 && !cas;
      break;
    case 0x00:  // get
    case 0x0c:  // getk
      ok = extlen == 0 && bodylen == keylen && keylen > 0;
      retry = true;
      break;
    case 0x04:  // delete
      ok = keylen > 0 && extlen == 0 && bodylen == keylen;
      retry = !cas;
      break;
    case 0x05:  // increment
    case 0x06:  // decrement
      ok = keylen > 0 && extlen == 20 && bodylen == keylen + extlen;
      break;
    case 0x0e:  // append
    case 0x0f:  // prepend
      ok = keylen > 0 && extlen == 0;
      vlen = bodylen - keylen;
      break;
    case 0x1c:  // touch
    case 0x1d:  // gat
    case 0x23:  // gatk
      ok = extlen == 4 && keylen != 0;
      retry = true;
      break;
    default:
      return BinaryFramed::Other;
  }
  if (!ok || vlen > max_value) return BinaryFramed::Other;
  size_t keyed = kBinaryHeader + extlen + keylen;
  if (n - off < keyed + vlen) return BinaryFramed::NeedMore;
  out.start = off;
  out.end = off + keyed + vlen;
  out.opcode = op;
  out.loud = loud;
  out.quiet = loud != op;
  out.retryable = retry;
  out.keyed = keyed;
  out.body = static_cast<uint32_t>(extlen + keylen + vlen);
  out.hash = key_hash(h + kBinaryHeader + extlen, keylen);
  return BinaryFramed::Keyed;
}

bool binary_quiet_drops(uint8_t opcode, const char* p, size_t n) {
  if (n < kBinaryHeader) return false;
  uint16_t status = be16(p + 6);
  bool read = opcode == 0x09 || opcode == 0x0d || opcode == 0x1e || opcode == 0x24;
  return read ? status == 0x01 : status == 0x00;
}

}  // namespace mcha
