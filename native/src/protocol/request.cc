#include "protocol/request.h"

#include <cstring>

#include "protocol/numbers.h"

namespace mcha {

const char* const kBadFormat = "CLIENT_ERROR bad command line format";

namespace {

// memcached's MAX_TOKENS: 23 words, then the rest of the line is left unread.
constexpr size_t kMaxWords = 23;

struct Words {
  std::string_view w[kMaxWords];
  size_t count = 0;
  size_t rest = SIZE_MAX;  // offset of unread text, SIZE_MAX when the line was read to its end
};

void tokenize(const char* s, size_t n, Words& out) {
  size_t start = 0;
  for (size_t e = 0; e < n; e++) {
    if (s[e] != ' ') continue;
    if (start != e) {
      out.w[out.count++] = std::string_view(s + start, e - start);
      if (out.count == kMaxWords) {
        out.rest = e + 1 < n ? e + 1 : SIZE_MAX;
        return;
      }
    }
    start = e + 1;
  }
  if (start != n) out.w[out.count++] = std::string_view(s + start, n - start);
}

void split_all(const char* s, size_t n, std::vector<std::string_view>& out) {
  size_t start = 0;
  for (size_t e = 0; e <= n; e++) {
    if (e < n && s[e] != ' ') continue;
    if (start != e) out.emplace_back(s + start, e - start);
    start = e + 1;
  }
}

void error(Request& r, const char* message, bool noreply) {
  r.kind = Kind::Error;
  r.message = message;
  r.noreply = noreply;
}

bool u32(std::string_view t, uint32_t& out) { return parse_u32(t.data(), t.size(), out); }
bool i32(std::string_view t, int32_t& out) { return parse_i32(t.data(), t.size(), out); }
bool u64(std::string_view t, uint64_t& out) { return parse_u64(t.data(), t.size(), out); }

void parse_get(const char* line, size_t n, const Words& w, Request& r, bool with_cas, bool touch) {
  r.kind = Kind::Get;
  r.with_cas = with_cas;
  r.touch = touch;
  size_t first = 1;
  if (touch) {
    if (!i32(w.w[1], r.exptime)) return error(r, "CLIENT_ERROR invalid exptime argument", false);
    first = 2;
  }
  for (size_t i = first; i < w.count; i++) r.keys.push_back(w.w[i]);
  if (w.rest != SIZE_MAX) split_all(line + w.rest, n - w.rest, r.keys);
  for (size_t i = 0; i < r.keys.size(); i++) {
    if (r.keys[i].size() > kKeyMaxLength) {
      r.keys.resize(i);
      r.bad_key = true;
      break;
    }
  }
}

void parse_store(const Words& w, Request& r, StoreOp op, bool noreply, bool with_cas) {
  r.noreply = noreply;
  r.key = w.w[1];
  if (r.key.size() > kKeyMaxLength) return error(r, kBadFormat, noreply);
  if (!u32(w.w[2], r.flags) || !i32(w.w[3], r.exptime) || !i32(w.w[4], r.bytes)) return error(r, kBadFormat, noreply);
  if (with_cas && !u64(w.w[5], r.cas)) return error(r, kBadFormat, noreply);
  if (r.bytes < 0 || r.bytes > 0x7fffffff - 2) return error(r, kBadFormat, noreply);
  r.kind = Kind::Store;
  r.op = op;
}

void parse_arith(const Words& w, Request& r, bool incr, bool noreply) {
  r.noreply = noreply;
  r.key = w.w[1];
  if (r.key.size() > kKeyMaxLength) return error(r, kBadFormat, noreply);
  if (!u64(w.w[2], r.delta)) return error(r, "CLIENT_ERROR invalid numeric delta argument", noreply);
  r.kind = Kind::Arith;
  r.incr = incr;
}

void parse_delete(const Words& w, size_t ntokens, Request& r, bool noreply) {
  // memcached looks for noreply only after a key: "delete noreply" deletes the key "noreply".
  noreply = noreply && ntokens > 3;
  r.noreply = noreply;
  if (ntokens > 3) {
    bool hold_is_zero = w.w[2] == "0";
    bool valid = (ntokens == 4 && (hold_is_zero || noreply)) || (ntokens == 5 && hold_is_zero && noreply);
    if (!valid) return error(r, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]", noreply);
  }
  r.key = w.w[1];
  if (r.key.size() > kKeyMaxLength) return error(r, kBadFormat, noreply);
  r.kind = Kind::Delete;
}

void parse_touch(const Words& w, Request& r, bool noreply) {
  r.noreply = noreply;
  r.key = w.w[1];
  if (r.key.size() > kKeyMaxLength) return error(r, kBadFormat, noreply);
  if (!i32(w.w[2], r.exptime)) return error(r, "CLIENT_ERROR invalid exptime argument", noreply);
  r.kind = Kind::Touch;
}

// memcached dispatches on the first letter before comparing names; only a line that falls
// through every family is checked for HTTP (and then closed).
bool is_http_probe(const Words& w) {
  std::string_view cmd = w.w[0];
  if (strchr("gsacidt", cmd[0]) != nullptr || (cmd[0] == 'm' && cmd.size() == 2)) return false;
  return w.w[w.count - 1].substr(0, 5) == "HTTP/";
}

void parse_meta_line(const Words& w, size_t ntokens, Request& r) {
  if (w.w[0][1] == 'n') {
    r.kind = Kind::Mn;
    return;
  }
  MetaRequest& m = r.meta;
  if (!parse_meta(w.w, w.count, ntokens, m)) return error(r, "ERROR", false);
  if (m.cmd == MetaCmd::Set && (!m.error || m.swallow)) {
    r.kind = Kind::MetaSet;
    r.key = m.key;
    r.bytes = m.datalen;
    return;
  }
  if (m.error) return error(r, m.error, false);
  r.kind = Kind::Meta;
  r.key = m.key;
}

}  // namespace

void Request::reset() {
  kind = Kind::Error;
  noreply = with_cas = touch = bad_key = incr = false;
  keys.clear();
  args.clear();
  delay_ok = true;
  exptime = 0;
  cas = 0;
  message = nullptr;
}

void parse_request(const char* line, size_t n, Request& r) {
  r.reset();
  const void* nul = memchr(line, 0, n);
  if (nul) n = static_cast<size_t>(static_cast<const char*>(nul) - line);
  Words w;
  tokenize(line, n, w);
  size_t ntokens = w.count + 1;  // memcached counts a terminal token
  if (ntokens < 2 || w.w[0].size() < 2) return error(r, "ERROR", false);
  std::string_view cmd = w.w[0];
  bool noreply = w.w[w.count - 1] == "noreply";
  if (cmd == "get" || cmd == "bget") return ntokens < 3 ? error(r, "ERROR", false) : parse_get(line, n, w, r, false, false);
  if (cmd == "gets") return ntokens < 3 ? error(r, "ERROR", false) : parse_get(line, n, w, r, true, false);
  if (cmd == "gat") return ntokens < 3 ? error(r, "ERROR", false) : parse_get(line, n, w, r, false, true);
  if (cmd == "gats") return ntokens < 3 ? error(r, "ERROR", false) : parse_get(line, n, w, r, true, true);
  // Meta commands are the two-letter m commands; memcached answers ERROR for an unknown one.
  if (cmd[0] == 'm' && cmd.size() == 2) return parse_meta_line(w, ntokens, r);
  StoreOp op;
  bool is_store = true;
  if (cmd == "set") op = StoreOp::Set;
  else if (cmd == "add") op = StoreOp::Add;
  else if (cmd == "replace") op = StoreOp::Replace;
  else if (cmd == "append") op = StoreOp::Append;
  else if (cmd == "prepend") op = StoreOp::Prepend;
  else is_store = false;
  if (is_store) return ntokens == 6 || ntokens == 7 ? parse_store(w, r, op, noreply, false) : error(r, "ERROR", false);
  if (cmd == "cas") return ntokens == 7 || ntokens == 8 ? parse_store(w, r, StoreOp::Cas, noreply, true) : error(r, "ERROR", false);
  if (cmd == "incr" || cmd == "decr") return ntokens == 4 || ntokens == 5 ? parse_arith(w, r, cmd == "incr", noreply) : error(r, "ERROR", false);
  if (cmd == "delete") return ntokens >= 3 && ntokens <= 5 ? parse_delete(w, ntokens, r, noreply) : error(r, "ERROR", false);
  if (cmd == "touch") return ntokens == 4 || ntokens == 5 ? parse_touch(w, r, noreply) : error(r, "ERROR", false);
  if (cmd == "flush_all") {
    if (ntokens > 4) return error(r, "ERROR", false);
    r.kind = Kind::FlushAll;
    r.noreply = noreply;
    r.exptime = 0;
    if (ntokens != (noreply ? 3u : 2u)) r.delay_ok = i32(w.w[1], r.exptime);
    return;
  }
  if (cmd == "stats") {
    r.kind = Kind::Stats;
    for (size_t i = 1; i < w.count; i++) r.args.push_back(w.w[i]);
    return;
  }
  if (cmd == "version") {
    r.kind = Kind::Version;
    return;
  }
  if (cmd == "verbosity") {
    if (ntokens != 3 && ntokens != 4) return error(r, "ERROR", false);
    if (!u32(w.w[1], r.level)) return error(r, kBadFormat, noreply);
    r.kind = Kind::Verbosity;
    r.noreply = noreply;
    return;
  }
  if (cmd == "quit") {
    r.kind = Kind::Quit;
    return;
  }
  if (cmd == "shutdown") {
    r.kind = Kind::Shutdown;
    r.shutdown = ntokens == 2 ? ShutdownMode::Now : ntokens == 3 && w.w[1] == "graceful" ? ShutdownMode::Graceful : ShutdownMode::Invalid;
    return;
  }
  if (is_http_probe(w)) {
    r.kind = Kind::Close;
    return;
  }
  error(r, "ERROR", false);
}

}  // namespace mcha
