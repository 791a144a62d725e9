// The proxy's own reading of memcached 1.6's meta command lines (mg ms md ma me mn and any
// other two-letter m command), only as far as routing and framing need: which command, the key
// it routes by, its quiet flag, its mode and CAS flags (whether a retry is safe), and ms's data
// block. The node parses the line for real and gives the answer, which the proxy relays; so a
// malformed line is still forwarded (to its key's shard, or the ring's first point) unless it
// breaks framing. Twin of src/proxy/meta-framer.ts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mcha {

struct MetaLine {
  char cmd = 0;               // the letter after 'm'
  size_t key_start = 0;       // the key token, offsets into the line (key_len 0: no key)
  size_t key_len = 0;
  bool binary = false;        // the key is base64 (a `b` flag): it routes by its decoded bytes
  // The q flag token with the space before it, offsets into the line (q_end 0: no q, or one
  // the proxy must not take out: see parse_meta_line).
  size_t q_start = 0;
  size_t q_end = 0;
  // ma with q and N: memcached answers a vivified miss even in quiet mode but not a hit, which
  // the reply does not tell apart; such a line keeps its q and goes out with an `mn` after it,
  // so the node's silence ends at its MN.
  bool fence = false;
  int64_t datalen = -1;       // ms: the data block's bytes without its "\r\n"; -1: no data block
  char mode = 0;              // ms, ma: the M flag's letter
  bool cas = false;           // a C flag
  bool ttl = false;           // a T flag: memcached counts an mg with one as a touch, not a get
};

// Reads line p[0, n) (without its line ending) when it is a meta command: false when it is not
// (its first token is not two bytes starting with 'm'). Like memcached it reads the line as a
// C string (up to a NUL) split at spaces. ms has a data block exactly where memcached reads or
// swallows one: its key is at most 250 bytes, it has 3 to 19 tokens and datalen parses as
// memcached's safe_strtol into [0, INT_MAX - 2]. A q flag is marked for removal only when it
// is the only one and the line is within memcached's 20-token bound, so that taking it out
// cannot change the node's answer to the line (a duplicate flag, too many tokens).
bool parse_meta_line(const char* p, size_t n, MetaLine& out);

// The key's bytes as the line routes: the base64-decoded key with `b` (the token as it is
// when it does not decode), else the token.
void meta_route_key(const char* p, const MetaLine& m, std::string& key);

// Whether a retry on another node is safe: reads (mg, me), md, ms in set mode without a CAS;
// not ma nor ms's add, replace, append, prepend or CAS modes, which the failed node may have
// applied. Other m commands are errors and change nothing.
bool meta_retryable(const MetaLine& m);

// Whether memcached 1.6.18 with the q flag on `cmd` would not send `reply` (whole, as framed):
// the nominal answers (mg: EN; ms, md: HD; ma: HD or VA), never an error.
bool quiet_drops(char cmd, const char* reply, size_t n);

}  // namespace mcha
