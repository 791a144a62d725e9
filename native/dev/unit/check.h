// A minimal test harness for the C++ unit tests: TEST(name) registers a case, CHECK records a
// failure with its line and goes on. main() (unit_main.cc) runs every case and ends with the
// "N passed, N failed" line the test runner reads.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace mcha::unit {

struct Case {
  const char* name;
  std::function<void()> run;
};

std::vector<Case>& cases();
void fail(const char* file, int line, const std::string& what);

struct Register {
  Register(const char* name, std::function<void()> run) { cases().push_back({name, std::move(run)}); }
};

}  // namespace mcha::unit

#define MCHA_CAT2(a, b) a##b
#define MCHA_CAT(a, b) MCHA_CAT2(a, b)
#define TEST(name)                                                                  \
  static void MCHA_CAT(test_, __LINE__)();                                          \
  static ::mcha::unit::Register MCHA_CAT(reg_, __LINE__)(name, MCHA_CAT(test_, __LINE__)); \
  static void MCHA_CAT(test_, __LINE__)()
#define CHECK(cond) \
  do {              \
    if (!(cond)) ::mcha::unit::fail(__FILE__, __LINE__, #cond); \
  } while (0)
#define CHECK_EQ(a, b)                                                                              \
  do {                                                                                              \
    auto va = (a);                                                                                  \
    auto vb = (b);                                                                                  \
    if (!(va == vb)) ::mcha::unit::fail(__FILE__, __LINE__, std::string(#a " == " #b " (") + std::to_string(va) + " vs " + std::to_string(vb) + ")"); \
  } while (0)
