#include "protocol/numbers.h"

#include <cstring>

namespace mcha {
namespace {

constexpr uint64_t kI64Max = 0x7fffffffffffffffULL;

bool is_cspace(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13); }

struct Scan {
  uint64_t magnitude = 0;
  bool negative = false;
  bool overflow = false;  // magnitude above 2^64 - 1
  size_t end = 0;         // index just past the digits
};

// strtoX's scan: leading white space, one sign, decimal digits. False when there are none.
bool scan(const char* s, size_t n, Scan& r) {
  size_t i = 0;
  while (i < n && is_cspace(static_cast<unsigned char>(s[i]))) i++;
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    r.negative = s[i] == '-';
    i++;
  }
  size_t start = i;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (r.magnitude > (UINT64_MAX - d) / 10) r.overflow = true;
    r.magnitude = r.magnitude * 10 + d;
  }
  r.end = i;
  return i > start;
}

size_t c_length(const char* s, size_t n) {
  const void* nul = memchr(s, 0, n);
  return nul ? static_cast<size_t>(static_cast<const char*>(nul) - s) : n;
}

bool ends_cleanly(const char* s, size_t n, size_t end) {
  return end == n || is_cspace(static_cast<unsigned char>(s[end]));
}

// strtoull on 64 bits plus memcached's refusal of a huge value when strchr finds a minus
// sign anywhere in the string (not only among the digits).
bool strtoull_checked(const char* s, size_t n, uint64_t& out) {
  n = c_length(s, n);
  Scan r;
  if (!scan(s, n, r) || r.overflow || !ends_cleanly(s, n, r.end)) return false;
  uint64_t v = r.negative ? (~r.magnitude + 1) : r.magnitude;
  if (v > kI64Max && memchr(s, '-', n) != nullptr) return false;
  out = v;
  return true;
}

}  // namespace

bool parse_u64(const char* s, size_t n, uint64_t& out) { return strtoull_checked(s, n, out); }

bool parse_u32(const char* s, size_t n, uint32_t& out) {
  uint64_t v;
  if (!strtoull_checked(s, n, v)) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

bool parse_i32(const char* s, size_t n, int32_t& out) {
  n = c_length(s, n);
  Scan r;
  if (!scan(s, n, r) || !ends_cleanly(s, n, r.end)) return false;
  if (r.overflow) return false;
  if (r.negative ? r.magnitude > kI64Max + 1 : r.magnitude > kI64Max) return false;  // ERANGE
  uint64_t v = r.negative ? (~r.magnitude + 1) : r.magnitude;
  out = static_cast<int32_t>(static_cast<uint32_t>(v));
  return true;
}

}  // namespace mcha
