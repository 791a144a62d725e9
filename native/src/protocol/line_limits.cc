#include "protocol/line_limits.h"

#include <cstring>

namespace mcha {
namespace {

bool starts_with(const char* p, size_t n, const char* text) {
  size_t t = strlen(text);
  return n >= t && memcmp(p, text, t) == 0;
}

}  // namespace

bool is_get_line(const char* p, size_t len) {
  size_t i = 0;
  while (i < len && p[i] == ' ') i++;
  if (i > 100) return false;
  return starts_with(p + i, len - i, "get ") || starts_with(p + i, len - i, "gets ");
}

}  // namespace mcha
