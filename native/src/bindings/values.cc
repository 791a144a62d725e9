// Conversions between JavaScript values and the C++ settings and results the bindings share.
#include <uv.h>

#include "bindings/bindings.h"

namespace mcha {

Napi::Value listen_result(Napi::Env env, int rc, const std::string& host, uint32_t port) {
  if (rc != 0) {
    Napi::Error e = Napi::Error::New(env, uv_strerror(rc));
    e.Set("code", Napi::String::New(env, uv_err_name(rc)));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("host", host);
  out.Set("port", port);
  return out;
}

size_t size_of(const Napi::Object& o, const char* name) {
  double v = o.Get(name).ToNumber().DoubleValue();
  return v > 0 ? static_cast<size_t>(v) : 0;
}

LineLimits line_limits(const Napi::Object& o) {
  LineLimits l;
  l.max_command_line = size_of(o, "maxCommandLine");
  l.max_complete_line = size_of(o, "maxCompleteLine");
  l.max_get_line = size_of(o, "maxGetLine");
  return l;
}

}  // namespace mcha
