// Base64 as memcached's meta commands use it for binary keys (`b` flag): standard alphabet,
// padded. Decoding follows memcached's decoder, whose quirks clients can see: bytes outside
// the alphabet are skipped, '=' counts as a zero digit, the count of digits must be a positive
// multiple of four, and decoding stops after the first block that holds padding.
// Twin of src/protocol/base64.ts.
#pragma once
#include <cstddef>

namespace mcha {

// Decodes src[0, n) into out (room for n bytes; out may be src). Returns the decoded length,
// 0 where memcached's decoder fails.
size_t decode_base64(const char* src, size_t n, char* out);
// Encodes src[0, n) into out (room for encoded_base64_size(n)); returns the length written.
size_t encode_base64(const char* src, size_t n, char* out);
constexpr size_t encoded_base64_size(size_t n) { return (n + 2) / 3 * 4; }

}  // namespace mcha
