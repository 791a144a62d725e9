#include "common/net_address.h"

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

std::string peer_address(const uv_tcp_t* connection) {
  sockaddr_storage addr;
  int len = sizeof(addr);
  if (uv_tcp_getpeername(connection, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  std::string host;
  uint32_t port = 0;
  address_parts(addr, host, port);
  return host + ":" + std::to_string(port);
}

}  // namespace mcha
