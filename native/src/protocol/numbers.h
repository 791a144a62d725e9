// memcached parses numbers with C's strtoul/strtol/strtoull on a 64-bit machine, then narrows
// them; clients see the consequences (flags 2^32 stored as 0, "+5" and "-0" accepted, a
// trailing tab allowed). These reproduce safe_strtoul, safe_strtol and safe_strtoull exactly
// on a byte range treated as a C string (it ends at the first NUL).
#pragma once
#include <cstddef>
#include <cstdint>

namespace mcha {

bool parse_u64(const char* s, size_t n, uint64_t& out);  // safe_strtoull
bool parse_u32(const char* s, size_t n, uint32_t& out);  // safe_strtoul into uint32_t
bool parse_i32(const char* s, size_t n, int32_t& out);   // safe_strtol into int32_t

}  // namespace mcha
