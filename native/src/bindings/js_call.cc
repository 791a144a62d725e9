#include "bindings/js_call.h"

namespace mcha {

LoopCallback::LoopCallback(napi_env env, napi_value fn, const char* name) : env_(env) {
  napi_create_reference(env, fn, 1, &fn_);
  napi_value resource;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
  napi_async_init(env, nullptr, resource, &context_);
}

LoopCallback::~LoopCallback() {
  napi_delete_reference(env_, fn_);
  napi_async_destroy(env_, context_);
}

void LoopCallback::call(size_t argc, napi_value* argv) {
  napi_value fn = nullptr, recv, result;
  napi_get_reference_value(env_, fn_, &fn);
  napi_get_global(env_, &recv);
  if (fn && napi_make_callback(env_, context_, recv, fn, argc, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env_, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env_, &err);
      napi_fatal_exception(env_, err);
    }
  }
}

}  // namespace mcha
