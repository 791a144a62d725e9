// The apply rule for a batch of the peer's records. Mirrors src/engine/ts/replica/apply.ts.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/settings.h"
#include "engine/store/store.h"
#include "engine/store/version_clock.h"

namespace mcha {

// Applies a batch of the peer's records by the apply rule (higher (version, origin) wins, equal
// is a no-op). Every length is checked against the batch: returns nullptr, or what was wrong
// (after applying the records before it).
const char* apply_records(const char* p, size_t n, Store& store, VersionClock& clock, const Settings& settings, uint64_t now_ms);

}  // namespace mcha
