// The test and benchmark entry points of the dev addon (memcache_ha_dev, built with
// GYP_DEFINES=dev=1 and never packed): each file registers its own.
#pragma once
#include <napi.h>

namespace mcha {

// bench.parseLines, bench.storeOps: whole micro-benchmark workloads in C++ per call.
void register_bench_hooks(Napi::Env env, Napi::Object bench);
// bench.runLoad: the load generator of `npm run bench`.
void register_load_generator(Napi::Env env, Napi::Object bench);
// proxyTest: the proxy's reply framer and one backend connection, for test/proxy/native-backend.
void register_proxy_hooks(Napi::Env env, Napi::Object exports);

}  // namespace mcha
