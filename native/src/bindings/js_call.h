// Calling JavaScript from a libuv callback (no JavaScript on the stack): the one way the node
// and the proxy core deliver their events.
#pragma once
#include <node_api.h>

namespace mcha {

// Calls the function held by `fn` with `argv`, as Node calls any callback from the loop
// (make_callback: microtasks run after it). An exception it throws is reported as uncaught
// (process 'uncaughtException'), never lost. The caller holds an open handle scope.
void call_from_loop(napi_env env, napi_async_context context, napi_ref fn, size_t argc, napi_value* argv);

}  // namespace mcha
