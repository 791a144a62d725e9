// Unix time in whole seconds (memcached's expiry resolution) and memcached's exptime rules.
// Mirrors src/engine/ts/store/clock.ts.
#pragma once
#include <cstdint>

namespace mcha {

uint32_t now_seconds();

// memcached's exptime rules as an absolute unix second: 0 never, up to 30 days relative,
// larger absolute, negative already expired. 1 means "long ago".
uint32_t absolute_expiry(int32_t exptime, uint32_t now);

}  // namespace mcha
