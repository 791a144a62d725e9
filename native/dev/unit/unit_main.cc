// Runs the C++ unit tests (native/dev/unit/*_test.cc), in-process against the product code of
// native/src (the mcha_core library): `npm test` runs it before the black-box suites.
#include <cstdio>
#include <cstdlib>

#include "check.h"

namespace mcha::unit {

namespace {
int failures_in_case = 0;
}

std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}

void fail(const char* file, int line, const std::string& what) {
  failures_in_case++;
  std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace mcha::unit

int main() {
  using namespace mcha::unit;
  int passed = 0, failed = 0;
  for (const Case& c : cases()) {
    failures_in_case = 0;
    c.run();
    if (failures_in_case == 0) {
      passed++;
      std::printf("  ok   %s\n", c.name);
    } else {
      failed++;
      std::printf("  FAIL %s\n", c.name);
    }
  }
  std::printf("native unit: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
