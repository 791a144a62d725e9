// memcached's binary protocol (deprecated in 1.6, still served by 1.6.18): the 24-byte packet
// header, the opcodes, the per-opcode rules on extras, key and body that proto_bin.c's
// dispatch_bin_command applies, the status codes and the response encoders. Pure: no store,
// no socket. Twin of src/protocol/binary.ts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/reply_writer.h"

namespace mcha {
namespace binary {

constexpr uint8_t kRequestMagic = 0x80;
constexpr uint8_t kResponseMagic = 0x81;
constexpr size_t kHeaderLength = 24;
// memcached's READ_BUFFER_SIZE: a header, its extras and key must fit in it to be read at all
// (a longer start fills memcached's buffer, its next read gets nothing and it closes).
constexpr size_t kReadBufferSize = 16384;
// complete_incr_bin: an expiry of all ones means "do not create a missing counter".
constexpr uint32_t kNoAutovivify = 0xffffffff;
// memcached's MAX_SASL_MECH_LEN (sasl_defs.h).
constexpr size_t kMaxSaslMechLength = 32;

enum Opcode : uint8_t {
  kGet = 0x00, kSet = 0x01, kAdd = 0x02, kReplace = 0x03, kDelete = 0x04, kIncrement = 0x05,
  kDecrement = 0x06, kQuit = 0x07, kFlush = 0x08, kGetQ = 0x09, kNoop = 0x0a, kVersion = 0x0b,
  kGetK = 0x0c, kGetKQ = 0x0d, kAppend = 0x0e, kPrepend = 0x0f, kStat = 0x10, kSetQ = 0x11,
  kAddQ = 0x12, kReplaceQ = 0x13, kDeleteQ = 0x14, kIncrementQ = 0x15, kDecrementQ = 0x16,
  kQuitQ = 0x17, kFlushQ = 0x18, kAppendQ = 0x19, kPrependQ = 0x1a, kVerbosity = 0x1b,
  kTouch = 0x1c, kGat = 0x1d, kGatQ = 0x1e, kSaslListMechs = 0x20, kSaslAuth = 0x21,
  kSaslStep = 0x22, kGatK = 0x23, kGatKQ = 0x24,
};

enum class Status : uint16_t {
  Success = 0x00,
  KeyNotFound = 0x01,
  KeyExists = 0x02,
  TooLarge = 0x03,
  InvalidArguments = 0x04,
  NotStored = 0x05,
  NonNumeric = 0x06,
  AuthError = 0x20,
  AuthContinue = 0x21,
  UnknownCommand = 0x81,
  OutOfMemory = 0x82,
};

// The request header, in host order.
struct Header {
  uint8_t magic = 0, opcode = 0, extlen = 0, datatype = 0;
  uint16_t keylen = 0, vbucket = 0;
  uint32_t bodylen = 0, opaque = 0;
  uint64_t cas = 0;
};

// p[0, kHeaderLength).
Header decode_header(const char* p);

// A request once its header, extras and key are in: the command it names (the quiet forms
// mapped onto the loud ones, as memcached rewrites c->cmd) and its extras decoded.
struct Request {
  Header header;
  uint8_t command = 0;  // the loud opcode; the reply carries header.opcode
  bool quiet = false;
  std::string_view key;  // a view into the read buffer until the request is consumed
  uint32_t flags = 0;        // set, add, replace
  uint32_t exptime = 0;      // set, add, replace, incr, decr, touch, gat, flush (0 if none)
  uint64_t delta = 0, initial = 0;  // incr, decr
  // The bytes after the extras and key the command itself reads (a value, SASL data).
  uint32_t value_length() const { return header.bodylen - header.keylen - header.extlen; }
};

// p[0, kHeaderLength + extlen + keylen) holds the packet's start.
Request decode_request(const Header& h, const char* p);

// What dispatch_bin_command makes of a header, in its order, before any opcode runs. First
// frame_fits(): key and extras that do not fit in the body are answered Unknown command, then
// the connection closes. Then (the caller's) the SASL check: Auth failure, then close. Then
// check_lengths():
// - Key: a key over 250 bytes: Invalid arguments, then close;
// - Unknown: an opcode 1.6.18 does not dispatch (verbosity among them): Unknown command, with
//   the body swallowed (counted from after extras and key, as memcached counts it);
// - Invalid: lengths the opcode does not allow: Invalid arguments, then close.
enum class LengthVerdict { Ok, Key, Unknown, Invalid };
bool frame_fits(const Header& h);
LengthVerdict check_lengths(const Request& r);

// memcached's generic message for each error status (write_bin_error).
const char* status_text(Status s);

// A response header into out[0, kHeaderLength).
void encode_header(char* out, uint8_t opcode, Status status, uint8_t extlen, uint16_t keylen, uint32_t bodylen, uint32_t opaque, uint64_t cas);
// Composing into a Writer (inline: the codec itself needs no libuv).
inline void write_header(Writer& w, uint8_t opcode, Status status, uint8_t extlen, uint16_t keylen, uint32_t bodylen, uint32_t opaque, uint64_t cas) {
  char h[kHeaderLength];
  encode_header(h, opcode, status, extlen, keylen, bodylen, opaque, cas);
  w.text(h, sizeof(h));
}

// A response with its whole body in hand.
inline void write_response(Writer& w, const Header& req, Status status, uint64_t cas, std::string_view extras, std::string_view key, std::string_view value) {
  uint32_t body = static_cast<uint32_t>(extras.size() + key.size() + value.size());
  write_header(w, req.opcode, status, static_cast<uint8_t>(extras.size()), static_cast<uint16_t>(key.size()), body, req.opaque, cas);
  w.text(extras);
  w.text(key);
  w.text(value);
}

// An error: the status and its text (or `message`) as the body, CAS 0.
inline void write_error(Writer& w, const Header& req, Status status, const char* message = nullptr) {
  write_response(w, req, status, 0, {}, {}, message ? message : status_text(status));
}

// One stat packet (opcode stat, status 0, CAS 0); an empty name and value end the group.
inline void write_stat(Writer& w, uint32_t opaque, std::string_view name, std::string_view value) {
  write_header(w, kStat, Status::Success, 0, static_cast<uint16_t>(name.size()), static_cast<uint32_t>(name.size() + value.size()), opaque, 0);
  w.text(name);
  w.text(value);
}

uint32_t load_u32(const char* p);
uint64_t load_u64(const char* p);
void store_u32(char* p, uint32_t v);
void store_u64(char* p, uint64_t v);

// A packet header for the -vv log: the opcode's name (or its number) and the key.
const char* opcode_name(uint8_t opcode);

}  // namespace binary
}  // namespace mcha
