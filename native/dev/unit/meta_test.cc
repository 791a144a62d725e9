// The meta protocol's parser (native/src/protocol/meta_request.cc), memcached's slab classes
// for `me`, and META_SET records (native/src/engine/replica/): what memcached 1.6.18 answers
// for each line was checked against the real server.
#include <cstring>
#include <string>

#include "check.h"
#include "engine/replica/apply.h"
#include "engine/replica/codec.h"
#include "engine/store/slab_classes.h"
#include "protocol/request.h"

using namespace mcha;

namespace {

// Request is large (it holds a decoded key): one per test, reused. Its views point into the
// line, which is kept until the next parse.
const Request& parse(Request& r, const std::string& line) {
  static std::string held;
  held = line;
  parse_request(held.data(), held.size(), r);
  return r;
}

std::string error_of(const std::string& line) {
  Request r;
  parse(r, line);
  if (r.kind == Kind::Error) return r.message;
  if (r.kind == Kind::MetaSet && r.meta.error) return std::string(r.meta.error) + (r.meta.swallow ? " +swallow" : "");
  return "";
}

}  // namespace

TEST("meta parser: flags in request order, arguments parsed, the key after the command") {
  Request r;
  parse(r, "mg foo v c T30 O123 k q");
  CHECK(r.kind == Kind::Meta);
  CHECK(r.meta.cmd == MetaCmd::Get);
  CHECK(r.meta.key == "foo");
  CHECK_EQ(r.meta.nflags, size_t{6});
  CHECK(r.meta.flags[2] == "T30");
  CHECK(r.meta.value && r.meta.quiet && r.meta.has_ttl);
  CHECK_EQ(r.meta.ttl, 30);
  parse(r, "ms foo 5 F7 MA C99 E5 I");
  CHECK(r.kind == Kind::MetaSet);
  CHECK_EQ(r.bytes, 5);
  CHECK_EQ(r.meta.client_flags, 7u);
  CHECK(r.meta.mode == 'A');
  CHECK(r.meta.has_cas && r.meta.cas == 99);
  CHECK(r.meta.has_cas_in && r.meta.cas_in == 5);
  CHECK(r.meta.stale);
  parse(r, "ma foo MD D7 J3 N0");
  CHECK(r.meta.cmd == MetaCmd::Arith);
  CHECK_EQ(r.meta.delta, uint64_t{7});
  CHECK_EQ(r.meta.initial, uint64_t{3});
  CHECK(r.meta.vivify);
  parse(r, "mn");
  CHECK(r.kind == Kind::Mn);
}

TEST("meta parser: memcached's error lines, command by command") {
  CHECK(error_of("mg") == "ERROR");
  CHECK(error_of("mz foo") == "ERROR");
  CHECK(error_of("md") == "ERROR");
  CHECK(error_of("me") == "CLIENT_ERROR bad command line format");
  CHECK(error_of("mg foo v v") == "CLIENT_ERROR duplicate flag");
  CHECK(error_of("mg foo !") == "CLIENT_ERROR invalid flag");
  CHECK(error_of("mg foo T") == "CLIENT_ERROR bad token in command line format");
  CHECK(error_of("mg foo \xff") == "CLIENT_ERROR duplicate flag");
  CHECK(error_of("md foo T") == "CLIENT_ERROR invalid or duplicate flag");
  CHECK(error_of("ma foo Dx") == "CLIENT_ERROR invalid or duplicate flag");
  CHECK(error_of("ma foo MX") == "CLIENT_ERROR invalid mode for ma M token");
  CHECK(error_of("mg " + std::string(251, 'k')) == "CLIENT_ERROR bad command line format");
  CHECK(error_of("mg k 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18") == "CLIENT_ERROR options flags are too long");
  CHECK(error_of("md k 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18") == "CLIENT_ERROR options flags too long");
  CHECK(error_of("mg k 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17") == "CLIENT_ERROR invalid flag");
  CHECK(error_of("md k O123456789012345678901234567890123") == "CLIENT_ERROR opaque token too long");
  // mg and ma check the opaque once they have acted: the parser lets it through.
  CHECK(error_of("mg k O123456789012345678901234567890123") == "");
}

TEST("meta parser: ms swallows its block only once the data length is known") {
  CHECK(error_of("ms foo") == "CLIENT_ERROR bad command line format");
  CHECK(error_of("ms foo abc") == "CLIENT_ERROR bad command line format");
  CHECK(error_of("ms foo -1") == "CLIENT_ERROR bad command line format");
  CHECK(error_of("ms " + std::string(251, 'k') + " 1") == "CLIENT_ERROR bad command line format");
  CHECK(error_of("ms foo 2 MX") == "CLIENT_ERROR invalid mode for ms M token +swallow");
  CHECK(error_of("ms foo 2 MEE") == "CLIENT_ERROR incorrect length for M token +swallow");
  CHECK(error_of("ms foo 2 Fx") == "CLIENT_ERROR bad command line format +swallow");
  CHECK(error_of("ms foo 2 O123456789012345678901234567890123") == "CLIENT_ERROR opaque token too long +swallow");
  // A bad mode is reported over a long opaque, as memcached checks it later.
  CHECK(error_of("ms foo 2 O123456789012345678901234567890123 MX") == "CLIENT_ERROR invalid mode for ms M token +swallow");
}

TEST("meta parser: base64 keys are decoded, and checked for length before decoding") {
  Request r;
  parse(r, "mg Zm9vYmFy b k");
  CHECK(r.meta.key == "foobar");
  CHECK(r.meta.key_binary);
  CHECK(error_of("mg !!! b") == "CLIENT_ERROR error decoding key");
  CHECK(error_of("md !!! b") == "CLIENT_ERROR invalid or duplicate flag");
  CHECK(error_of("me !!! b") == "CLIENT_ERROR bad command line format");
  parse(r, "me Zm9v b");
  CHECK(r.meta.cmd == MetaCmd::Debug);
  CHECK(r.meta.key == "foo");
  CHECK(error_of("mg " + std::string(252, 'A') + " b") == "CLIENT_ERROR bad command line format");
}

TEST("slab classes: memcached 1.6.18's defaults, the chunked items in the last class") {
  CHECK_EQ(slab_class(1), 1u);
  CHECK_EQ(slab_class(96), 1u);
  CHECK_EQ(slab_class(97), 2u);
  CHECK_EQ(slab_class(120), 2u);
  CHECK_EQ(slab_class(121), 3u);
  CHECK_EQ(slab_class(600070), slab_class(1 << 20));
  CHECK_EQ(slab_class(512 * 1024), slab_class(1 << 20));
}

TEST("codec: an item with meta state is a META_SET; without, a plain SET") {
  Store scratch(1 << 20, true);
  Item* plain = scratch.alloc("k", 0, 0, 1);
  plain->value()[0] = 'v';
  RecordBuffer a;
  encode_set(a, plain);
  CHECK_EQ(static_cast<int>(a.data()[0]), static_cast<int>(RecordKind::Set));
  Item* meta = scratch.alloc("key", 3, 0, 2, 0x1122334455667788ull);
  memcpy(meta->value(), "vv", 2);
  meta->bits |= Item::kStale | Item::kKeyBinary;
  meta->version = 77;
  RecordBuffer b;
  encode_set(b, meta);
  CHECK_EQ(b.size(), kMetaSetFixed + 3 + 2);
  CHECK_EQ(static_cast<int>(b.data()[0]), static_cast<int>(RecordKind::MetaSet));
  CHECK_EQ(static_cast<int>(b.data()[34]), 1 | 4);
  CHECK_EQ(get_le<uint64_t>(b.data() + 35), 0x1122334455667788ull);
  CHECK(std::string(b.data() + 43, 5) == "keyvv");
  // Applied on the peer: the same marks and CAS, the version deciding as for a SET.
  Store peer(1 << 20, true);
  VersionClock clock;
  Settings s;
  s.item_size_max = 1 << 20;
  CHECK(apply_records(b.data(), b.size(), peer, clock, s, 1'700'000'000'000ull) == nullptr);
  Item* got = peer.raw("key");
  CHECK(got != nullptr);
  if (got) {
    CHECK_EQ(got->cas(true), 0x1122334455667788ull);
    CHECK((got->bits & Item::kMetaBits) == (Item::kStale | Item::kKeyBinary));
    CHECK(std::string(got->value(), got->nvalue) == "vv");
  }
  // Truncated anywhere: refused, nothing read out of bounds.
  for (size_t cut = 1; cut < b.size(); cut++) {
    Store empty(1 << 20, true);
    CHECK(apply_records(b.data(), cut, empty, clock, s, 1'700'000'000'000ull) != nullptr);
  }
  scratch.release(plain);
  scratch.release(meta);
}
