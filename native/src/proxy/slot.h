// What the proxy's C++ data path keeps per request of a client, in the client's reply order.
// Mirrors src/proxy/slot.ts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mcha {

// Room for the nodes one request was sent to: the retry bound itself (ProxySettings::max_tries)
// comes from TypeScript and is checked against this when the core is made.
constexpr int kTriedCapacity = 8;

// One request to one node: a client's request, or one part of a split multi-get.
struct RequestUnit {
  std::string req;  // its bytes, kept until it is answered (a retry resends them)
  uint32_t hash = 0;  // its key's (a split part's first key's): routed by the ring of the moment
  int32_t kind = 0;
  bool fence = false;  // a meta line sent with an `mn` after it (MetaLine::fence)
  uint8_t ntried = 0;
  int16_t tried[kTriedCapacity] = {};
};

// A multi-get (or gat) over several nodes is split: one part per node, merged back in key order.
struct SplitPart {
  RequestUnit unit;
  std::vector<uint32_t> keys;  // indexes into ReplySlot::keys
  std::string reply;
  bool done = false;
};

// A client's request from the time it is framed until its reply is written.
struct ReplySlot {
  RequestUnit unit;
  std::string out;  // the reply
  bool done = false;
  bool silent = false;             // noreply: the reply is dropped
  char quiet = 0;                  // a meta command's q: its nominal replies are dropped (quiet_drops)
  // A binary request: the client's opcode (the reply goes back with it), its quiet form's
  // hidden replies dropped (binary_quiet_drops), and its opaque for an error the proxy gives.
  bool binary = false;
  bool binary_quiet = false;
  uint8_t binary_opcode = 0;
  char binary_opaque[4] = {};
  std::vector<std::string> keys;   // split: the keys as asked
  std::vector<SplitPart> parts;    // split: the parts, in the order of their first key
  uint32_t parts_left = 0;
};

}  // namespace mcha
