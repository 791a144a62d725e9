// MD5 (RFC 1321), for ketama: libmemcached hashes keys and server labels with it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mcha {

// The digest of data[0, n) as four little-endian 32-bit words (word 0 is libmemcached's key hash).
void md5_words(const char* data, size_t n, uint32_t out[4]);

}  // namespace mcha
