// Socket addresses for the listeners and connections on libuv handles (the node's server and
// the proxy's data path): numeric addresses in, host and port out.
#pragma once
#include <uv.h>

#include <cstdint>
#include <string>

namespace mcha {

// Parses a numeric IPv4 or IPv6 address (libuv binds and connects to numeric addresses only).
int parse_address(const std::string& host, uint32_t port, sockaddr_storage& out);

// The host (numeric) and port of a socket address.
void address_parts(const sockaddr_storage& addr, std::string& host, uint32_t& port);

// The address a listener is bound to.
void bound_address(const uv_tcp_t* listener, std::string& host, uint32_t& port);

// The peer of a connection as "host:port" ("?" once it is gone), for logs and `stats conns`.
std::string peer_address(const uv_tcp_t* connection);

}  // namespace mcha
