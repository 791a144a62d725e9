#include "net_address.h"

#include <netinet/in.h>

namespace mcha {

int parse_address(const std::string& host, uint32_t port, sockaddr_storage& out) {
  int rc = uv_ip4_addr(host.c_str(), static_cast<int>(port), reinterpret_cast<sockaddr_in*>(&out));
  if (rc != 0) rc = uv_ip6_addr(host.c_str(), static_cast<int>(port), reinterpret_cast<sockaddr_in6*>(&out));
  return rc;
}

void address_parts(const sockaddr_storage& addr, std::string& host, uint32_t& port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(a6, text, sizeof(text));
    port = ntohs(a6->sin6_port);
  } else {
    const auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);
    uv_ip4_name(a4, text, sizeof(text));
    port = ntohs(a4->sin_port);
  }
  host = text;
}

void bound_address(const uv_tcp_t* listener, std::string& host, uint32_t& port) {
  sockaddr_storage name;
  int len = sizeof(name);
  uv_tcp_getsockname(listener, reinterpret_cast<sockaddr*>(&name), &len);
  address_parts(name, host, port);
}

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

}  // namespace mcha
