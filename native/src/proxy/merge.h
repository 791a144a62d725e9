// Putting a split multi-get back together. Mirrors src/proxy/merge.ts.
#pragma once
#include <string>

#include "proxy/slot.h"

namespace mcha {

// The parts' replies in the order the client asked for the keys (memcached's: hits in request
// order, duplicates repeated), ending in END. A part that failed or answered with an error
// makes the whole reply that error: the client must not take a failure for misses.
void merge_get(const ReplySlot& s, std::string& out);

}  // namespace mcha
