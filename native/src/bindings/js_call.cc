#include "bindings/js_call.h"

namespace mcha {

void call_from_loop(napi_env env, napi_async_context context, napi_ref fn_ref, size_t argc, napi_value* argv) {
  napi_value fn = nullptr, recv, result;
  napi_get_reference_value(env, fn_ref, &fn);
  napi_get_global(env, &recv);
  if (fn && napi_make_callback(env, context, recv, fn, argc, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
}

}  // namespace mcha
