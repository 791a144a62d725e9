// Entry points for the micro-benchmarks (bench/micro.ts): each runs a whole workload in C++
// per call, so what is timed is the parser or the store, not the crossing.
#include <cstring>
#include <string>
#include <vector>

#include "dev_hooks.h"

#include "protocol/request.h"
#include "engine/store/store.h"
#include "engine/store/version_clock.h"

namespace mcha {

namespace {

// parseLines(buffer): parses every line of the buffer; returns how many requests it read.
Napi::Value ParseLines(const Napi::CallbackInfo& info) {
  Napi::Buffer<char> buf = info[0].As<Napi::Buffer<char>>();
  const char* p = buf.Data();
  size_t n = buf.Length();
  Request req;
  uint32_t count = 0;
  size_t off = 0;
  while (off < n) {
    const char* nl = static_cast<const char*>(memchr(p + off, '\n', n - off));
    if (!nl) break;
    size_t len = static_cast<size_t>(nl - (p + off));
    size_t line = len > 1 && p[off + len - 1] == '\r' ? len - 1 : len;
    parse_request(p + off, line, req);
    count++;
    off += len + 1;
    if (req.kind == Kind::Store) off += static_cast<size_t>(req.bytes) + 2;
  }
  return Napi::Number::New(info.Env(), count);
}

// storeOps(ops, keys, valueSize): a 90/10 get/set mix over `keys` keys; returns the hits.
Napi::Value StoreOps(const Napi::CallbackInfo& info) {
  uint32_t ops = info[0].As<Napi::Number>().Uint32Value();
  uint32_t keys = info[1].As<Napi::Number>().Uint32Value();
  uint32_t value_size = info[2].As<Napi::Number>().Uint32Value();
  static Store* store = nullptr;
  static VersionClock clock;
  if (!store) store = new Store(1ull << 32, true);
  uint32_t hits = 0;
  uint32_t x = 2463534242u;
  char key[32];
  for (uint32_t i = 0; i < ops; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    int klen = snprintf(key, sizeof(key), "key:%u", x % keys);
    std::string_view k(key, static_cast<size_t>(klen));
    if (i % 10 != 0) {
      if (store->get(k, 0)) hits++;
      continue;
    }
    Item* it = store->alloc(k, 0, 0, value_size);
    memset(it->value(), 'v', value_size);
    it->version = clock.next();
    if (!store->put(it, 0)) store->release(it);
  }
  return Napi::Number::New(info.Env(), hits);
}

}  // namespace

void register_bench_hooks(Napi::Env env, Napi::Object bench) {
  bench.Set("parseLines", Napi::Function::New(env, ParseLines));
  bench.Set("storeOps", Napi::Function::New(env, StoreOps));
}

}  // namespace mcha
