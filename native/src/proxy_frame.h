// Request framing for the proxy: splits a client's input into whole requests and hashes their
// keys, so the TypeScript proxy routes a pipelined read with one call into the addon.
#pragma once
#include <napi.h>

namespace mcha {

// frameRequests(buf, start, maxValue, out: Int32Array) -> count. See proxy_frame.cc.
Napi::Value FrameRequests(const Napi::CallbackInfo& info);

}  // namespace mcha
