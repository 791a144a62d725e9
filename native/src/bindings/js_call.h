// Calling JavaScript from a libuv callback (no JavaScript on the stack): the one way the node
// and the proxy core deliver their events.
#pragma once
#include <node_api.h>

namespace mcha {

// A JavaScript function held for calls from the loop: its reference and its async context,
// both let go with the object.
class LoopCallback {
 public:
  LoopCallback(napi_env env, napi_value fn, const char* name);
  ~LoopCallback();
  LoopCallback(const LoopCallback&) = delete;
  LoopCallback& operator=(const LoopCallback&) = delete;

  napi_env env() const { return env_; }
  // Calls it with `argv` as Node calls any callback from the loop (make_callback: microtasks run
  // after it). An exception it throws is reported as uncaught (process 'uncaughtException'),
  // never lost. The caller holds an open handle scope.
  void call(size_t argc, napi_value* argv);

 private:
  napi_env env_;
  napi_ref fn_ = nullptr;
  napi_async_context context_ = nullptr;
};

}  // namespace mcha
