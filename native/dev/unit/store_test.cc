// The item table (native/src/engine/store/): memory accounting, SIEVE eviction, expiry, flush and
// the incremental growth of the hash table.
#include <cstring>
#include <string>

#include "check.h"
#include "engine/store/clock.h"
#include "engine/store/store.h"

using namespace mcha;

namespace {

constexpr uint32_t kNow = 1'700'000'000;

bool put(Store& s, const std::string& key, const std::string& value, uint32_t exptime = 0, uint64_t version = 1) {
  Item* it = s.alloc(key, 0, exptime, static_cast<uint32_t>(value.size()));
  if (!it) return false;
  memcpy(it->value(), value.data(), value.size());
  it->version = version;
  if (s.put(it, kNow)) return true;
  s.release(it);
  return false;
}

std::string value_of(Store& s, const std::string& key, uint32_t now = kNow) {
  Item* it = s.get(key, now);
  return it ? std::string(it->value(), it->nvalue) : std::string("<miss>");
}

}  // namespace

TEST("store: set, get, replace and remove, with the bytes accounted") {
  Store s(1 << 20, true);
  CHECK(put(s, "a", "one"));
  CHECK(value_of(s, "a") == "one");
  uint64_t one = s.bytes();
  CHECK(put(s, "a", "three"));
  CHECK(value_of(s, "a") == "three");
  CHECK_EQ(s.count(), uint64_t{1});
  CHECK_EQ(s.bytes(), one + 2);
  CHECK(s.remove("a"));
  CHECK(value_of(s, "a") == "<miss>");
  CHECK_EQ(s.count(), uint64_t{0});
  CHECK_EQ(s.bytes(), uint64_t{0});
}

TEST("store: past the memory limit the least useful items go, and a read item survives (SIEVE)") {
  const std::string value(1000, 'v');
  Store s(64 * 1024, true);
  CHECK(put(s, "hot", value));
  for (int i = 0; i < 200; i++) {
    Item* hot = s.get("hot", kNow);
    CHECK(hot != nullptr);
    if (hot) hot->bits |= Item::kVisited;  // what a client's get does (commands/execute.cc)
    CHECK(put(s, "cold" + std::to_string(i), value));
    CHECK(s.bytes() <= 64 * 1024);
  }
  CHECK(value_of(s, "hot") == value);
  CHECK(value_of(s, "cold0") == "<miss>");
  CHECK(s.counters().evictions > 0);
}

TEST("store: with evictions off (-M) a full store refuses the write") {
  const std::string value(1000, 'v');
  Store s(16 * 1024, false);
  int stored = 0;
  for (int i = 0; i < 100; i++) stored += put(s, "k" + std::to_string(i), value) ? 1 : 0;
  CHECK(stored > 0);
  CHECK(stored < 100);
  CHECK(value_of(s, "k0") == value);
  CHECK_EQ(s.counters().evictions, uint64_t{0});
}

TEST("store: an item expires on access at its second, and the sweep reclaims the rest") {
  Store s(1 << 20, true);
  CHECK(put(s, "soon", "x", kNow + 10));
  CHECK(put(s, "never", "y", 0));
  CHECK(value_of(s, "soon", kNow + 9) == "x");
  CHECK(value_of(s, "soon", kNow + 10) == "<miss>");
  CHECK_EQ(s.counters().expired_on_access, uint64_t{1});
  for (int i = 0; i < 100; i++) CHECK(put(s, "e" + std::to_string(i), "z", kNow + 5));
  s.sweep(kNow + 6, 1000);
  CHECK_EQ(s.count(), uint64_t{1});
  CHECK(value_of(s, "never", kNow + 6) == "y");
}

TEST("store: flush_all removes what is older than its version, not what is newer") {
  Store s(1 << 20, true);
  CHECK(put(s, "old", "1", 0, 10));
  CHECK(put(s, "new", "2", 0, 30));
  s.flush_all(20);
  CHECK(value_of(s, "old") == "<miss>");
  CHECK(value_of(s, "new") == "2");
}

TEST("store: the table grows incrementally and every key stays reachable while it does") {
  Store s(1ull << 30, true);
  size_t before = s.buckets();
  bool saw_expanding = false;
  const int n = static_cast<int>(before) * 2;
  for (int i = 0; i < n; i++) {
    CHECK(put(s, "key" + std::to_string(i), std::to_string(i)));
    if (s.expanding()) {
      saw_expanding = true;
      // Mid-growth: keys in the old table and in the new one are both found.
      if (i % 997 == 0) CHECK(value_of(s, "key" + std::to_string(i / 2)) == std::to_string(i / 2));
    }
  }
  CHECK(saw_expanding);
  while (s.expanding()) s.sweep(kNow, 100000);
  CHECK(s.buckets() > before);
  for (int i = 0; i < n; i += 101) CHECK(value_of(s, "key" + std::to_string(i)) == std::to_string(i));
  CHECK_EQ(s.count(), static_cast<uint64_t>(n));
}

TEST("clock: memcached's relative clock for expiries already past when given") {
  const uint32_t start = 1700000000, now = start + 100;
  CHECK_EQ(absolute_expiry(0, now, start), 0u);
  CHECK_EQ(absolute_expiry(30, now, start), now + 30);
  // Negative, and absolute at or before process_started (start - 62): relative second 1.
  CHECK_EQ(absolute_expiry(-1, now, start), start - 61);
  CHECK_EQ(absolute_expiry(1000000000, now, start), start - 61);
  CHECK_EQ(absolute_expiry(static_cast<int32_t>(start - 62), now, start), start - 61);
  // After process_started but past: itself, so t counts from it (mg T<now-10> t: t4294967286).
  CHECK_EQ(absolute_expiry(static_cast<int32_t>(now - 10), now, start), now - 10);
  CHECK_EQ(absolute_expiry(static_cast<int32_t>(now - 10), now, start) - now, 4294967286u);
  // mg T-1 t on a server up for `uptime` seconds: 2^32 - 61 - uptime.
  CHECK_EQ(absolute_expiry(-1, now, start) - now, 4294967296u - 61 - 100);
}
