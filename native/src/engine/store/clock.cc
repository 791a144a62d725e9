#include "engine/store/clock.h"

#include <ctime>

namespace mcha {
namespace {

// Longest relative expiry; larger values are absolute unix times (memcached's REALTIME_MAXDELTA).
constexpr int32_t kMaxRelativeExptime = 60 * 60 * 24 * 30;

}  // namespace

uint32_t now_seconds() { return static_cast<uint32_t>(time(nullptr)); }

uint32_t absolute_expiry(int32_t exptime, uint32_t now, uint32_t started_at) {
  if (exptime == 0) return 0;
  if (exptime < 0) return long_ago(started_at);
  if (exptime > kMaxRelativeExptime) return static_cast<uint32_t>(exptime) <= process_started(started_at) ? long_ago(started_at) : static_cast<uint32_t>(exptime);
  return now + static_cast<uint32_t>(exptime);
}

}  // namespace mcha
