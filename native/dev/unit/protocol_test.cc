// The text protocol's parser and line rules (native/src/protocol/).
#include <string>

#include "check.h"
#include "protocol/line_limits.h"
#include "protocol/request.h"

using namespace mcha;

namespace {

Request parse(const std::string& line) {
  Request r;
  parse_request(line.data(), line.size(), r);
  return r;
}

}  // namespace

TEST("parser: get and gets take every key") {
  Request r = parse("get a bb ccc");
  CHECK(r.kind == Kind::Get);
  CHECK(!r.with_cas);
  CHECK_EQ(r.keys.size(), size_t{3});
  CHECK(r.keys[2] == "ccc");
  Request g = parse("gets k");
  CHECK(g.kind == Kind::Get);
  CHECK(g.with_cas);
}

TEST("parser: a key of 250 bytes is taken, 251 is a bad key") {
  Request ok = parse("get " + std::string(250, 'k'));
  CHECK(ok.kind == Kind::Get);
  CHECK(!ok.bad_key);
  Request bad = parse("get a " + std::string(251, 'k'));
  CHECK(bad.bad_key);
  Request set = parse("set " + std::string(251, 'k') + " 0 0 1");
  CHECK(set.kind != Kind::Store);
}

TEST("parser: storage commands with flags, expiry, length, cas and noreply") {
  Request r = parse("set k 4294967295 -1 5 noreply");
  CHECK(r.kind == Kind::Store);
  CHECK(r.op == StoreOp::Set);
  CHECK_EQ(r.flags, 4294967295u);
  CHECK_EQ(r.exptime, -1);
  CHECK_EQ(r.bytes, 5);
  CHECK(r.noreply);
  Request c = parse("cas k 0 0 1 99");
  CHECK(c.op == StoreOp::Cas);
  CHECK_EQ(c.cas, uint64_t{99});
  Request bad = parse("set k 0 0 abc");
  CHECK(bad.kind == Kind::Error);
  CHECK(bad.message != nullptr);
}

TEST("parser: incr and decr deltas as memcached reads them") {
  Request r = parse("incr k 18446744073709551615");
  CHECK(r.kind == Kind::Arith);
  CHECK(r.incr);
  CHECK_EQ(r.delta, uint64_t{18446744073709551615ull});
  Request d = parse("decr k 5");
  CHECK(!d.incr);
  Request bad = parse("incr k -1");
  CHECK(bad.kind == Kind::Error);
  CHECK(std::string(bad.message) == "CLIENT_ERROR invalid numeric delta argument");
}

TEST("parser: unknown commands are errors") {
  CHECK(parse("bogus").kind == Kind::Error);
  CHECK(parse("").kind == Kind::Error);
}

TEST("line limits: only get and gets lines may grow past the command limit") {
  LineLimits l;
  l.max_command_line = 2048;
  l.max_complete_line = 16384;
  l.max_get_line = 8 << 20;
  std::string get = "get " + std::string(5000, 'k');
  std::string set = "set " + std::string(5000, 'k');
  CHECK(line_may_grow(l, get.data(), get.size()));
  CHECK(!line_may_grow(l, set.data(), set.size()));
  CHECK(line_may_grow(l, set.data(), 2048));
  std::string spaced = std::string(100, ' ') + "gets x";
  CHECK(is_get_line(spaced.data(), spaced.size()));
  std::string too_spaced = std::string(101, ' ') + "gets x";
  CHECK(!is_get_line(too_spaced.data(), too_spaced.size()));
}
