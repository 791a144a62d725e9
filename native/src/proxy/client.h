// A client connection of the proxy's C++ data path: its unframed input and its requests in
// reply order (a ring of slots), and its output. Mirrors src/proxy/client.ts; the work on it is
// done by ProxyCore (client.cc: reading and reply ordering; dispatcher.cc: routing).
#pragma once
#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/slot.h"

namespace mcha {

class ProxyCore;

struct ClientConnection {
  // A TCP or a unix-socket (-f) connection, as its listener accepts them.
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle;
  uv_write_t write_req;
  ProxyCore* core = nullptr;
  uint32_t id = 0;
  uint32_t lane = 0;
  std::string in;  // input not framed yet, from in_off
  size_t in_off = 0;
  std::vector<ReplySlot> ring;  // slots head_seq .. head_seq + count, at seq & (size - 1)
  uint32_t head_seq = 0;
  uint32_t count = 0;
  std::string out;       // replies not handed to libuv yet
  std::string inflight;  // handed to uv_write, until its callback
  bool writing = false;
  bool reading = false;
  bool eof = false;
  bool handoff = false;  // a request for the TypeScript path is next: hand over once idle
  bool started = false;  // its first byte was read: the protocol is chosen
  bool binary = false;   // the binary protocol (a first byte 0x80, as memcached decides)
  bool closing = false;
  bool dirty = false;
  bool later = false;  // waits for the rest of its batch (the core's timer flushes it)

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&handle); }
  ReplySlot& at(uint32_t seq) { return ring[seq & (ring.size() - 1)]; }
  bool idle() const { return count == 0 && !writing && out.empty(); }
};

}  // namespace mcha
