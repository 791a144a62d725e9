// The proxy's reading of binary protocol requests on its C++ data path, twin of
// src/proxy/binary-framer.ts as far as this path goes: a keyed request that memcached's
// dispatch_bin_command would run (get, set, delete, incr... in any quiet form) is forwarded on
// a binary backend connection with its opcode made loud and its body cut to what memcached
// consumes; noop is answered here; everything else (version, stat, flush, quit, SASL, unknown
// opcodes, malformed packets, values over -I) moves the connection to the TypeScript path,
// which answers it exactly as memcached does.
#pragma once
#include <cstddef>
#include <cstdint>

#include "protocol/binary.h"

namespace mcha {

// Not sent by memcached 1.6.18: the binary protocol's "temporary failure", for a request no
// node could answer (src/proxy/binary-framer.ts's Status.TemporaryFailure).
constexpr uint16_t kBinaryTemporaryFailure = 0x86;

enum class BinaryFramed { Keyed, Noop, NeedMore, Other };

struct BinaryRequest {
  size_t start = 0;
  size_t end = 0;      // past its value
  uint8_t opcode = 0;  // as the client sent it
  uint8_t loud = 0;    // as the node gets it
  bool quiet = false;
  bool retryable = false;
  size_t keyed = 0;    // header, extras and key
  uint32_t body = 0;   // extras, key and value: the body length the node gets
  uint32_t hash = 0;   // ketama's hash of the key
};

// Frames the binary request at p[off, n), every length checked against the buffer first.
BinaryFramed frame_binary(const char* p, size_t n, size_t off, size_t max_value, BinaryRequest& out);

// Whether memcached 1.6.18 would not send the reply `p` (a response packet) to the quiet
// opcode `opcode`: a get's miss, any other command's success.
bool binary_quiet_drops(uint8_t opcode, const char* p, size_t n);

}  // namespace mcha
