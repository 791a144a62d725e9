#pragma once
#include <napi.h>

namespace mcha {
void register_bench_hooks(Napi::Env env, Napi::Object exports);
}
