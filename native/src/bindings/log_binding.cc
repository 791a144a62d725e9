// setLogFd(fd): the addon's log lines go to this file descriptor (--log-file) instead of stderr.
#include "bindings/bindings.h"
#include "common/log.h"

namespace mcha {

void register_log(Napi::Env env, Napi::Object exports) {
  exports.Set("setLogFd", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (info.Length() == 1 && info[0].IsNumber()) set_log_fd(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }, "setLogFd"));
}

}  // namespace mcha
