// One line per event on stderr (or the --log-file the process opened: set_log_fd), in the same
// format as the TypeScript Logger.
#pragma once
#include <string_view>

namespace mcha {

void log_line(const char* level, std::string_view message);
// Where log lines go from now on (a file descriptor the JavaScript side owns).
void set_log_fd(int fd);
// A request line for the log: at most 200 bytes, control bytes escaped.
std::string printable(const char* p, size_t n);

}  // namespace mcha
