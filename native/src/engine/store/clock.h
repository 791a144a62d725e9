// Unix time in whole seconds (memcached's expiry resolution) and memcached's exptime rules.
// Mirrors src/engine/ts/store/clock.ts.
#pragma once
#include <cstdint>

namespace mcha {

uint32_t now_seconds();

// memcached dates its start ITEM_UPDATE_INTERVAL + 2 seconds early (stats_init): its
// process_started, as a unix second, for a node that started at `started_at`.
inline uint32_t process_started(uint32_t started_at) { return started_at - 62; }

// Where memcached puts every expiry already past when given (a negative one, or an absolute
// time at or before process_started): relative time 1, the second after process_started. mg t
// then prints (this - now) as u32, 2^32 - 61 - uptime, as memcached does.
inline uint32_t long_ago(uint32_t started_at) { return process_started(started_at) + 1; }

// memcached's realtime(EXPTIME_TO_POSITIVE_TIME(exptime)) as an absolute unix second: 0 never,
// up to 30 days relative, larger absolute; negative, and absolute times at or before
// process_started, long_ago(). An absolute time after process_started but already past stays
// itself (dead at once, t counts from it).
uint32_t absolute_expiry(int32_t exptime, uint32_t now, uint32_t started_at);

}  // namespace mcha
