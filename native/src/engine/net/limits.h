// Connection-level bounds of the node's C++ data path. The ones TypeScript also needs (output
// high water, flush point) arrive in Settings (see engine/settings.h); these are the C++ side's
// own mechanics.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mcha {

constexpr size_t kReadChunk = 64 * 1024;  // free room a read is offered
constexpr uint64_t kCloseLingerMs = 10000;  // a closing client that does not read is cut off then
constexpr uint64_t kStopGraceMs = 5000;     // stop(): connections still open then are closed

}  // namespace mcha
