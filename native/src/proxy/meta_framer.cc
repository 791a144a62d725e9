#include "proxy/meta_framer.h"

#include <climits>
#include <cstring>

#include "protocol/base64.h"
#include "protocol/numbers.h"

namespace mcha {
namespace {

// memcached's bounds: tokenize_command's 24 tokens (the terminal one included), the meta
// commands' 20 and the key's 250 bytes.
constexpr size_t kMaxTokens = 24;
constexpr size_t kMaxMetaTokens = 20;
constexpr size_t kKeyMaxLength = 250;

struct Token {
  size_t start;
  size_t len;
};

// Splits p[0, n) at spaces into at most kMaxTokens - 1 tokens (memcached keeps the rest of a
// longer line as one last token, which only matters for counting); returns how many.
size_t tokenize(const char* p, size_t n, Token* tokens) {
  size_t count = 0;
  size_t s = 0;
  for (size_t e = 0; e < n; e++) {
    if (p[e] != ' ') continue;
    if (s != e) {
      tokens[count++] = Token{s, e - s};
      if (count == kMaxTokens - 1) return count;
    }
    s = e + 1;
  }
  if (s != n) tokens[count++] = Token{s, n - s};
  return count;
}

bool starts(const char* p, size_t n, const char* word) {
  size_t w = strlen(word);
  return n >= w && memcmp(p, word, w) == 0;
}

// A reply line that is exactly `code`, or `code` and flags.
bool is_code(const char* p, size_t n, const char* code) {
  return n >= 3 && p[0] == code[0] && p[1] == code[1] && (p[2] == ' ' || p[2] == '\r' || p[2] == '\n');
}

}  // namespace

bool parse_meta_line(const char* p, size_t n, MetaLine& out) {
  const void* nul = memchr(p, 0, n);
  if (nul) n = static_cast<size_t>(static_cast<const char*>(nul) - p);
  Token t[kMaxTokens];
  size_t count = tokenize(p, n, t);
  if (count == 0 || t[0].len != 2 || p[t[0].start] != 'm') return false;
  out = MetaLine();
  out.cmd = p[t[0].start + 1];
  size_t ntokens = count + 1;  // memcached counts the terminal token
  if (count >= 2) {
    out.key_start = t[1].start;
    out.key_len = t[1].len;
  }
  // me takes only `b` as its third token; the others take flags after the key (ms: after datalen).
  if (out.cmd == 'e') {
    out.binary = ntokens >= 4 && t[2].len == 1 && p[t[2].start] == 'b';
    return true;
  }
  size_t first_flag = out.cmd == 's' ? 3 : 2;
  size_t quiet = 0;
  bool vivify = false;
  for (size_t i = first_flag; i < count; i++) {
    char f = p[t[i].start];
    if (f == 'b') out.binary = true;
    else if (f == 'C') out.cas = true;
    else if (f == 'N') vivify = true;
    else if (f == 'T') out.ttl = true;
    else if (f == 'M' && t[i].len >= 2) out.mode = p[t[i].start + 1];
    else if (f == 'q' && quiet++ == 0) {
      out.q_start = t[i - 1].start + t[i - 1].len;
      out.q_end = t[i].start + t[i].len;
    }
  }
  if (quiet != 1 || ntokens > kMaxMetaTokens || out.cmd == 'n') out.q_start = out.q_end = 0;
  if (out.q_end != 0 && out.cmd == 'a' && vivify) {
    out.fence = true;
    out.q_start = out.q_end = 0;
  }
  if (out.cmd == 's' && count >= 3 && ntokens <= kMaxMetaTokens && out.key_len <= kKeyMaxLength) {
    int32_t v;
    if (parse_i32(p + t[2].start, t[2].len, v) && v >= 0 && v <= INT_MAX - 2) out.datalen = v;
  }
  return true;
}

void meta_route_key(const char* p, const MetaLine& m, std::string& key) {
  key.assign(p + m.key_start, m.key_len);
  if (!m.binary || m.key_len == 0) return;
  size_t n = decode_base64(key.data(), key.size(), key.data());
  if (n > 0) key.resize(n);
}

bool meta_retryable(const MetaLine& m) {
  switch (m.cmd) {
    case 'a': return false;
    case 's': return !m.cas && (m.mode == 0 || m.mode == 'S' || m.mode == 's');
    default: return true;
  }
}

bool quiet_drops(char cmd, const char* reply, size_t n) {
  switch (cmd) {
    case 'g': return is_code(reply, n, "EN");
    case 's':
    case 'd': return is_code(reply, n, "HD");
    case 'a': return is_code(reply, n, "HD") || starts(reply, n, "VA ");
    default: return false;
  }
}

}  // namespace mcha
