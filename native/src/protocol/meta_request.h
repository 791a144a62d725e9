// One meta protocol line (mg ms md ma me mn) as memcached 1.6.18's process_m*_command and
// _meta_flag_preparse read it, plus the flags doc/protocol.txt of 1.6.45 adds (E everywhere, x on
// md, s and N on ms, C on mg). Pure: views point into the line, except a base64 key, which is
// decoded into the request itself. Twin of src/protocol/meta-request.ts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mcha {

enum class MetaCmd : uint8_t { Get, Set, Delete, Arith, Debug };

struct MetaRequest {
  // memcached refuses a meta line of more than 20 tokens (its count includes a terminal one).
  static constexpr size_t kMaxFlags = 17;

  MetaCmd cmd = MetaCmd::Get;
  std::string_view key;  // the key to look up: into the line, or into key_buf when decoded
  bool key_binary = false;
  // The flag tokens after the key (ms: after the data length), in request order: replies are
  // built by walking them, as memcached does.
  std::string_view flags[kMaxFlags];
  size_t nflags = 0;

  bool quiet = false;      // q
  bool value = false;      // v
  bool no_bump = false;    // u
  bool stale = false;      // I
  bool remove_value = false;  // x (md)
  bool has_ttl = false;    // T
  bool vivify = false;     // N
  bool has_recache = false;  // R
  bool has_cas = false;    // C
  bool has_cas_in = false;  // E
  int32_t ttl = 0, vivify_ttl = 0, recache_ttl = 0;  // as sent: exptime rules applied when run
  uint32_t client_flags = 0;  // F
  uint64_t cas = 0;           // C
  uint64_t cas_in = 0;        // E
  uint64_t delta = 1;         // D
  uint64_t initial = 0;       // J
  char mode = 0;              // M
  int32_t datalen = 0;        // ms

  // A refused line: the error to send (never quiet) and, for ms once its data length was read,
  // the data block that follows it and must be swallowed.
  const char* error = nullptr;
  bool swallow = false;

  char key_buf[256];

  // Back to the defaults, leaving the buffers (flags past nflags and key_buf are never read):
  // assigning a fresh MetaRequest would clear and copy 600 bytes per request.
  void reset();
};

// Parses a line whose command token is two letters starting with 'm' (not mn). `words` are the
// line's tokens as memcached's tokenizer splits them (command first), `ntokens` memcached's
// count (words plus its terminal token). Returns false when the command letter is unknown
// (memcached answers ERROR).
bool parse_meta(const std::string_view* words, size_t nwords, size_t ntokens, MetaRequest& m);

// Error lines the executor also sends (memcached checks O's length while building a reply).
extern const char* const kMetaOpaqueTooLong;
constexpr size_t kMetaMaxOpaque = 32;

}  // namespace mcha
