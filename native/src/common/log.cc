#include "common/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace mcha {

namespace {
int log_fd = STDERR_FILENO;
}  // namespace

void set_log_fd(int fd) { log_fd = fd; }

void log_line(const char* level, std::string_view message) {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  dprintf(log_fd, "%s.%03dZ [%d] %s: %.*s\n", stamp, static_cast<int>(tv.tv_usec / 1000), static_cast<int>(getpid()), level,
          static_cast<int>(message.size()), message.data());
}

std::string printable(const char* p, size_t n) {
  size_t shown = n > 200 ? 200 : n;
  std::string out;
  for (size_t i = 0; i < shown; i++) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x7f) {
      char esc[5];
      snprintf(esc, sizeof(esc), "\\x%02x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n > 200) out += "... (" + std::to_string(n) + " bytes)";
  return out;
}

}  // namespace mcha
