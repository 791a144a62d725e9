#include "common/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <string>

namespace mcha {

namespace {
std::atomic<int> log_fd{STDERR_FILENO};
int own_fd = -1;  // ours once set_log_fd is called; only Node's thread calls it
}  // namespace

void set_log_fd(int fd) {
  // The addon writes to a descriptor of its own and points it at each new file with dup3,
  // which swaps atomically: a worker thread logging meanwhile writes to the old file or the
  // new one, never to a descriptor the caller has closed (or that was reused since).
  if (own_fd < 0) {
    own_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own_fd >= 0) log_fd.store(own_fd, std::memory_order_relaxed);
  } else if (fd != own_fd) {
    dup3(fd, own_fd, O_CLOEXEC);
  }
}

void log_line(const char* level, std::string_view message) {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  dprintf(log_fd.load(std::memory_order_relaxed), "%s.%03dZ [%d] %s: %.*s\n", stamp, static_cast<int>(tv.tv_usec / 1000), static_cast<int>(getpid()), level,
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
