// memcached's bounds on request lines, the one place the C++ side holds them. The numbers are
// declared in TypeScript (src/protocol/line-limits.ts) and arrive in the settings the addon is
// started with, so the two engines and the proxy cannot drift apart.
#pragma once
#include <cstddef>

namespace mcha {

struct LineLimits {
  size_t max_command_line = 0;   // an unterminated non-get line past this closes the connection
  size_t max_complete_line = 0;  // memcached's read buffer: a longer non-get line is never parsed
  size_t max_get_line = 0;       // multi-get lines may be long, up to this
};

// memcached lets only `get` and `gets` lines (after at most 100 spaces) grow past the command limit.
bool is_get_line(const char* p, size_t len);

// Whether an unterminated line of `len` bytes may keep growing (memcached's rule).
inline bool line_may_grow(const LineLimits& limits, const char* p, size_t len) {
  if (len <= limits.max_command_line) return true;
  return len <= limits.max_get_line && is_get_line(p, len);
}

}  // namespace mcha
