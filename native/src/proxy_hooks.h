// Test entry points for the proxy's C++ data path (see proxy_hooks.cc).
#pragma once
#include <napi.h>

namespace mcha {
void register_proxy_hooks(Napi::Env env, Napi::Object exports);
}
