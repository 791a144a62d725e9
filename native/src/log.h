// One line per event on stderr, in the same format as the TypeScript Logger.
#pragma once
#include <string_view>

namespace mcha {

void log_line(const char* level, std::string_view message);
// A request line for the log: at most 200 bytes, control bytes escaped.
std::string printable(const char* p, size_t n);

}  // namespace mcha
