// One parsed request line of memcached's text protocol. Pure data: keys and arguments are
// views into the connection's read buffer, valid until the line is consumed.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "protocol/meta_request.h"

namespace mcha {

constexpr size_t kKeyMaxLength = 250;

// Meta: mg md ma me; MetaSet: ms, which has a data block (and may be refused before it).
enum class Kind { Get, Store, Arith, Delete, Touch, FlushAll, Stats, Version, Verbosity, Quit, Shutdown, Mn, Meta, MetaSet, Error, Close };
enum class StoreOp { Set, Add, Replace, Append, Prepend, Cas };
enum class ShutdownMode { Now, Graceful, Invalid };

struct Request {
  Kind kind = Kind::Error;
  StoreOp op = StoreOp::Set;
  bool noreply = false;
  // get family
  bool with_cas = false;
  bool touch = false;
  // memcached serves (and, for gat, touches) the keys before an over-long one, then throws
  // that output away and reports the error.
  bool bad_key = false;
  std::vector<std::string_view> keys;
  std::string_view key;
  uint32_t flags = 0;
  int32_t exptime = 0;
  int32_t bytes = 0;
  uint64_t cas = 0;
  bool incr = false;
  uint64_t delta = 0;
  // flush_all: whether the delay parsed (the -F check comes first)
  bool delay_ok = true;
  uint32_t level = 0;
  ShutdownMode shutdown = ShutdownMode::Now;
  std::vector<std::string_view> args;
  const char* message = nullptr;  // error line without CRLF
  // Meta and MetaSet (bytes holds ms's data length); filled only for those.
  MetaRequest meta;

  void reset();
};

// Parses line[0, n) (without its line ending) as memcached 1.6's process_command_ascii does.
void parse_request(const char* line, size_t n, Request& req);

extern const char* const kBadFormat;

}  // namespace mcha
