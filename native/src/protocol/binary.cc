#include "protocol/binary.h"

#include <cstring>

#include "protocol/request.h"

namespace mcha::binary {

uint32_t load_u32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

uint64_t load_u64(const char* p) { return (uint64_t{load_u32(p)} << 32) | load_u32(p + 4); }

void store_u32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

void store_u64(char* p, uint64_t v) {
  store_u32(p, static_cast<uint32_t>(v >> 32));
  store_u32(p + 4, static_cast<uint32_t>(v));
}

namespace {

uint16_t load_u16(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}

// memcached's quiet opcodes and the loud ones it rewrites them to.
struct QuietForm {
  uint8_t quiet, loud;
};
constexpr QuietForm kQuiet[] = {
    {kSetQ, kSet}, {kAddQ, kAdd}, {kReplaceQ, kReplace}, {kDeleteQ, kDelete}, {kIncrementQ, kIncrement},
    {kDecrementQ, kDecrement}, {kQuitQ, kQuit}, {kFlushQ, kFlush}, {kAppendQ, kAppend}, {kPrependQ, kPrepend},
    {kGetQ, kGet}, {kGetKQ, kGetK}, {kGatQ, kGat}, {kGatKQ, kGatK},
};

}  // namespace

Header decode_header(const char* p) {
  Header h;
  h.magic = static_cast<uint8_t>(p[0]);
  h.opcode = static_cast<uint8_t>(p[1]);
  h.keylen = load_u16(p + 2);
  h.extlen = static_cast<uint8_t>(p[4]);
  h.datatype = static_cast<uint8_t>(p[5]);
  h.vbucket = load_u16(p + 6);
  h.bodylen = load_u32(p + 8);
  h.opaque = load_u32(p + 12);
  h.cas = load_u64(p + 16);
  return h;
}

Request decode_request(const Header& h, const char* p) {
  Request r;
  r.header = h;
  r.command = h.opcode;
  for (const QuietForm& q : kQuiet) {
    if (q.quiet == h.opcode) {
      r.command = q.loud;
      r.quiet = true;
    }
  }
  const char* ext = p + kHeaderLength;
  r.key = std::string_view(ext + h.extlen, h.keylen);
  // Extras are read only in the length the command wants; check() refuses any other.
  switch (r.command) {
    case kSet:
    case kAdd:
    case kReplace:
      if (h.extlen == 8) {
        r.flags = load_u32(ext);
        r.exptime = load_u32(ext + 4);
      }
      break;
    case kIncrement:
    case kDecrement:
      if (h.extlen == 20) {
        r.delta = load_u64(ext);
        r.initial = load_u64(ext + 8);
        r.exptime = load_u32(ext + 16);
      }
      break;
    case kFlush:
    case kTouch:
    case kGat:
    case kGatK:
      if (h.extlen == 4) r.exptime = load_u32(ext);
      break;
    default: break;
  }
  return r;
}

bool frame_fits(const Header& h) { return h.keylen <= h.bodylen && uint32_t{h.keylen} + h.extlen <= h.bodylen; }

LengthVerdict check_lengths(const Request& r) {
  const Header& h = r.header;
  if (h.keylen > kKeyMaxLength) return LengthVerdict::Key;
  bool empty = h.extlen == 0 && h.keylen == 0 && h.bodylen == 0;
  bool ok;
  switch (r.command) {
    case kVersion:
    case kNoop:
    case kQuit:
    case kSaslListMechs: ok = empty; break;
    case kFlush: ok = h.keylen == 0 && h.bodylen == h.extlen && (h.extlen == 0 || h.extlen == 4); break;
    case kSet:
    case kAdd:
    case kReplace: ok = h.extlen == 8 && h.keylen != 0 && h.bodylen >= uint32_t{h.keylen} + 8; break;
    case kGet:
    case kGetK:
    case kDelete: ok = h.extlen == 0 && h.keylen > 0 && h.bodylen == h.keylen; break;
    case kIncrement:
    case kDecrement: ok = h.extlen == 20 && h.keylen > 0 && h.bodylen == uint32_t{h.keylen} + 20; break;
    case kAppend:
    case kPrepend: ok = h.extlen == 0 && h.keylen > 0; break;
    case kStat: ok = h.extlen == 0; break;
    case kSaslAuth:
    case kSaslStep: ok = h.extlen == 0 && h.keylen != 0; break;
    case kTouch:
    case kGat:
    case kGatK: ok = h.extlen == 4 && h.keylen != 0; break;
    default: return LengthVerdict::Unknown;
  }
  return ok ? LengthVerdict::Ok : LengthVerdict::Invalid;
}

const char* status_text(Status s) {
  switch (s) {
    case Status::OutOfMemory: return "Out of memory";
    case Status::UnknownCommand: return "Unknown command";
    case Status::KeyNotFound: return "Not found";
    case Status::InvalidArguments: return "Invalid arguments";
    case Status::KeyExists: return "Data exists for key.";
    case Status::TooLarge: return "Too large.";
    case Status::NonNumeric: return "Non-numeric server-side value for incr or decr";
    case Status::NotStored: return "Not stored.";
    case Status::AuthError: return "Auth failure.";
    case Status::Success:
    case Status::AuthContinue: break;
  }
  return "";
}

void encode_header(char* h, uint8_t opcode, Status status, uint8_t extlen, uint16_t keylen, uint32_t bodylen, uint32_t opaque, uint64_t cas) {
  h[0] = static_cast<char>(kResponseMagic);
  h[1] = static_cast<char>(opcode);
  h[2] = static_cast<char>(keylen >> 8);
  h[3] = static_cast<char>(keylen);
  h[4] = static_cast<char>(extlen);
  h[5] = 0;  // raw bytes
  uint16_t st = static_cast<uint16_t>(status);
  h[6] = static_cast<char>(st >> 8);
  h[7] = static_cast<char>(st);
  store_u32(h + 8, bodylen);
  store_u32(h + 12, opaque);
  store_u64(h + 16, cas);
}

const char* opcode_name(uint8_t opcode) {
  static const char* const names[] = {
      "GET", "SET", "ADD", "REPLACE", "DELETE", "INCREMENT", "DECREMENT", "QUIT", "FLUSH", "GETQ", "NOOP", "VERSION",
      "GETK", "GETKQ", "APPEND", "PREPEND", "STAT", "SETQ", "ADDQ", "REPLACEQ", "DELETEQ", "INCREMENTQ", "DECREMENTQ",
      "QUITQ", "FLUSHQ", "APPENDQ", "PREPENDQ", "VERBOSITY", "TOUCH", "GAT", "GATQ", nullptr, "SASL_LIST_MECHS",
      "SASL_AUTH", "SASL_STEP", "GATK", "GATKQ",
  };
  if (opcode < sizeof(names) / sizeof(names[0]) && names[opcode]) return names[opcode];
  return nullptr;
}

}  // namespace mcha::binary
