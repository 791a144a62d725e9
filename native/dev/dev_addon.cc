// The dev addon's entry point (src/dev/dev-addon.ts loads it from build/Release/dev/).
#include <napi.h>

#include "dev_hooks.h"

static Napi::Object InitDevAddon(Napi::Env env, Napi::Object exports) {
  Napi::Object bench = Napi::Object::New(env);
  mcha::register_bench_hooks(env, bench);
  mcha::register_load_generator(env, bench);
  exports.Set("bench", bench);
  mcha::register_proxy_hooks(env, exports);
  return exports;
}

NODE_API_MODULE(memcache_ha_dev, InitDevAddon)
