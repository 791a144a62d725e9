#include "protocol/meta_request.h"

#include "protocol/base64.h"
#include "protocol/numbers.h"

namespace mcha {

const char* const kMetaOpaqueTooLong = "CLIENT_ERROR opaque token too long";

namespace {

constexpr size_t kKeyMax = 250;
// memcached's MFLAG_MAX_OPT_LENGTH, compared with its token count (terminal token included).
constexpr size_t kMaxTokens = 20;
const char* const kBadLine = "CLIENT_ERROR bad command line format";
const char* const kBadToken = "CLIENT_ERROR bad token in command line format";

bool i32(std::string_view t, int32_t& out) { return parse_i32(t.data(), t.size(), out); }
bool u32(std::string_view t, uint32_t& out) { return parse_u32(t.data(), t.size(), out); }
bool u64(std::string_view t, uint64_t& out) { return parse_u64(t.data(), t.size(), out); }

bool decode_key(std::string_view encoded, MetaRequest& m) {
  size_t n = decode_base64(encoded.data(), encoded.size(), m.key_buf);
  m.key = std::string_view(m.key_buf, n);
  return n != 0;
}

// _meta_flag_preparse: a duplicate or unknown flag stops at once; a flag whose argument does
// not parse records its error and the scan goes on (a later error replaces the message).
bool preparse(const std::string_view* words, size_t nwords, size_t start, MetaRequest& m, const char*& errstr) {
  bool seen[127] = {};
  bool failed = false;
  for (size_t i = start; i < nwords; i++) {
    std::string_view t = words[i];
    auto o = static_cast<unsigned char>(t[0]);
    if (o >= 127 || seen[o]) {
      errstr = "CLIENT_ERROR duplicate flag";
      return false;
    }
    seen[o] = true;
    std::string_view arg = t.substr(1);
    switch (o) {
      case 'b':
        m.key_binary = true;
        if (!decode_key(words[1], m)) {
          errstr = "CLIENT_ERROR error decoding key";
          failed = true;
        }
        break;
      case 'N':
        m.vivify = true;
        if (!i32(arg, m.vivify_ttl)) errstr = kBadToken, failed = true;
        break;
      case 'T':
        if (i32(arg, m.ttl)) m.has_ttl = true;
        else errstr = kBadToken, failed = true;
        break;
      case 'R':
        if (i32(arg, m.recache_ttl)) m.has_recache = true;
        else errstr = kBadToken, failed = true;
        break;
      case 'l': case 'O': case 'P': case 'L': case 'k': case 's': case 't': case 'c': case 'f': case 'h':
        break;
      case 'v': m.value = true; break;
      case 'u': m.no_bump = true; break;
      case 'q': m.quiet = true; break;
      case 'x': m.remove_value = true; break;
      case 'I': m.stale = true; break;
      case 'F':
        // memcached keeps the default message for a bad F.
        if (!u32(arg, m.client_flags)) failed = true;
        break;
      case 'C':
        if (u64(arg, m.cas)) m.has_cas = true;
        else errstr = kBadToken, failed = true;
        break;
      case 'E':
        if (u64(arg, m.cas_in)) m.has_cas_in = true;
        else errstr = kBadToken, failed = true;
        break;
      case 'M':
        if (t.size() != 2) errstr = "CLIENT_ERROR incorrect length for M token", failed = true;
        else m.mode = t[1];
        break;
      case 'J':
        if (!u64(arg, m.initial)) errstr = "CLIENT_ERROR invalid numeric initial value", failed = true;
        break;
      case 'D':
        if (!u64(arg, m.delta)) errstr = "CLIENT_ERROR invalid numeric delta value", failed = true;
        break;
      default:
        errstr = "CLIENT_ERROR invalid flag";
        return false;
    }
  }
  return !failed;
}

bool opaque_too_long(const MetaRequest& m) {
  for (size_t i = 0; i < m.nflags; i++) {
    if (m.flags[i][0] == 'O' && m.flags[i].size() > kMetaMaxOpaque) return true;
  }
  return false;
}

// Flags of everything but ms start after the key.
bool flags_from(const std::string_view* words, size_t nwords, size_t start, MetaRequest& m, const char*& errstr) {
  m.nflags = 0;
  for (size_t i = start; i < nwords; i++) m.flags[m.nflags++] = words[i];
  return preparse(words, nwords, start, m, errstr);
}

void parse_get(const std::string_view* w, size_t nw, size_t ntokens, MetaRequest& m) {
  if (w[1].size() > kKeyMax) return void(m.error = kBadLine);
  if (ntokens > kMaxTokens) return void(m.error = "CLIENT_ERROR options flags are too long");
  const char* errstr = kBadLine;
  if (!flags_from(w, nw, 2, m, errstr)) m.error = errstr;
}

void parse_set(const std::string_view* w, size_t nw, size_t ntokens, MetaRequest& m) {
  if (w[1].size() > kKeyMax || ntokens == 3) return void(m.error = kBadLine);
  if (ntokens > kMaxTokens) return void(m.error = "CLIENT_ERROR options flags too long");
  if (!i32(w[2], m.datalen) || m.datalen < 0 || m.datalen > 0x7fffffff - 2) return void(m.error = kBadLine);
  // From here on memcached knows the data length and swallows the block after an error.
  m.swallow = true;
  const char* errstr = kBadLine;
  if (!flags_from(w, nw, 3, m, errstr)) return void(m.error = errstr);
  switch (m.mode) {
    case 0: case 'E': case 'A': case 'P': case 'R': case 'S': break;
    default: return void(m.error = "CLIENT_ERROR invalid mode for ms M token");
  }
  if (opaque_too_long(m)) m.error = kMetaOpaqueTooLong;
  else m.swallow = false;
}

// md and ma: memcached does not pass on the preparse message.
bool parse_delete_or_arith(const std::string_view* w, size_t nw, size_t ntokens, MetaRequest& m) {
  if (w[1].size() > kKeyMax) return m.error = kBadLine, false;
  if (ntokens > kMaxTokens) return m.error = "CLIENT_ERROR options flags too long", false;
  const char* errstr = kBadLine;
  if (!flags_from(w, nw, 2, m, errstr)) return m.error = "CLIENT_ERROR invalid or duplicate flag", false;
  return true;
}

void parse_debug(const std::string_view* w, size_t ntokens, MetaRequest& m) {
  if (ntokens < 3 || w[1].size() > kKeyMax) return void(m.error = kBadLine);
  if (ntokens >= 4 && w[2] == "b") {
    m.key_binary = true;
    if (!decode_key(w[1], m)) m.error = kBadLine;
  }
}

}  // namespace

void MetaRequest::reset() {
  cmd = MetaCmd::Get;
  key = {};
  key_binary = false;
  nflags = 0;
  quiet = value = no_bump = stale = remove_value = has_ttl = vivify = has_recache = has_cas = has_cas_in = false;
  ttl = vivify_ttl = recache_ttl = 0;
  client_flags = 0;
  cas = cas_in = 0;
  delta = 1;
  initial = 0;
  mode = 0;
  datalen = 0;
  error = nullptr;
  swallow = false;
}

bool parse_meta(const std::string_view* w, size_t nw, size_t ntokens, MetaRequest& m) {
  m.reset();
  if (nw >= 2) m.key = w[1];
  switch (w[0][1]) {
    case 'g': m.cmd = MetaCmd::Get; break;
    case 's': m.cmd = MetaCmd::Set; break;
    case 'd': m.cmd = MetaCmd::Delete; break;
    case 'a': m.cmd = MetaCmd::Arith; break;
    case 'e': m.cmd = MetaCmd::Debug; break;
    default: return false;
  }
  if (m.cmd == MetaCmd::Debug) {
    parse_debug(w, ntokens, m);
    return true;
  }
  if (ntokens < 3) {
    m.error = "ERROR";
    return true;
  }
  switch (m.cmd) {
    case MetaCmd::Get: parse_get(w, nw, ntokens, m); break;
    case MetaCmd::Set: parse_set(w, nw, ntokens, m); break;
    case MetaCmd::Delete:
      if (parse_delete_or_arith(w, nw, ntokens, m) && opaque_too_long(m)) m.error = kMetaOpaqueTooLong;
      break;
    case MetaCmd::Arith:
      if (!parse_delete_or_arith(w, nw, ntokens, m)) break;
      switch (m.mode) {
        case 0: case 'I': case '+': case 'D': case '-': break;
        default: m.error = "CLIENT_ERROR invalid mode for ma M token";
      }
      break;
    case MetaCmd::Debug: break;
  }
  return true;
}

}  // namespace mcha
