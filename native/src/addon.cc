// The addon's entry point: the classes and functions TypeScript loads (src/engine/native/addon.ts
// declares their types). Test and benchmark entry points live in a separate addon (native/dev/),
// never in this one.
#include <napi.h>

#include "bindings/bindings.h"

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  mcha::register_engine(env, exports);
  mcha::register_proxy(env, exports);
  mcha::register_log(env, exports);
  return exports;
}

NODE_API_MODULE(memcache_ha_native, InitAddon)
