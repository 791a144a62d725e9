// The binary protocol's codec (native/src/protocol/binary.h) and the credentials' compare.
#include <string>

#include "check.h"
#include "engine/auth/credentials.h"
#include "protocol/binary.h"

using namespace mcha;

namespace {

std::string packet(uint8_t opcode, uint8_t extlen, uint16_t keylen, uint32_t bodylen, uint32_t opaque = 0, uint64_t cas = 0) {
  std::string p(binary::kHeaderLength, '\0');
  p[0] = static_cast<char>(binary::kRequestMagic);
  p[1] = static_cast<char>(opcode);
  p[2] = static_cast<char>(keylen >> 8);
  p[3] = static_cast<char>(keylen);
  p[4] = static_cast<char>(extlen);
  binary::store_u32(&p[8], bodylen);
  binary::store_u32(&p[12], opaque);
  binary::store_u64(&p[16], cas);
  return p;
}

binary::Request request(const std::string& p) { return binary::decode_request(binary::decode_header(p.data()), p.data()); }

}  // namespace

TEST("binary codec: the header decodes in network order") {
  binary::Header h = binary::decode_header(packet(binary::kSet, 8, 3, 0x01020304, 0xdeadbeef, 0x1122334455667788ull).data());
  CHECK_EQ(h.magic, binary::kRequestMagic);
  CHECK_EQ(h.keylen, uint16_t{3});
  CHECK_EQ(h.extlen, uint8_t{8});
  CHECK_EQ(h.bodylen, 0x01020304u);
  CHECK_EQ(h.opaque, 0xdeadbeefu);
  CHECK_EQ(h.cas, 0x1122334455667788ull);
}

TEST("binary codec: quiet opcodes map onto the loud ones, extras decode per command") {
  std::string p = packet(binary::kIncrementQ, 20, 1, 21);
  p += std::string(20, '\0');
  binary::store_u64(&p[24], 5);
  binary::store_u64(&p[32], 7);
  binary::store_u32(&p[40], binary::kNoAutovivify);
  p += "k";
  binary::Request r = request(p);
  CHECK_EQ(r.command, uint8_t{binary::kIncrement});
  CHECK(r.quiet);
  CHECK_EQ(r.delta, uint64_t{5});
  CHECK_EQ(r.initial, uint64_t{7});
  CHECK_EQ(r.exptime, binary::kNoAutovivify);
  CHECK(r.key == "k");
  CHECK(binary::check_lengths(r) == binary::LengthVerdict::Ok);
}

TEST("binary codec: dispatch_bin_command's length rules") {
  CHECK(!binary::frame_fits(binary::decode_header(packet(binary::kGet, 0, 5, 4).data())));
  CHECK(!binary::frame_fits(binary::decode_header(packet(binary::kSet, 8, 5, 12).data())));
  CHECK(binary::check_lengths(request(packet(binary::kGet, 0, 0, 0))) == binary::LengthVerdict::Invalid);
  CHECK(binary::check_lengths(request(packet(binary::kGet, 0, 251, 251) + std::string(251, 'k'))) == binary::LengthVerdict::Key);
  CHECK(binary::check_lengths(request(packet(binary::kSet, 4, 1, 5) + "xxxxk")) == binary::LengthVerdict::Invalid);
  CHECK(binary::check_lengths(request(packet(binary::kFlush, 4, 0, 4) + "xxxx")) == binary::LengthVerdict::Ok);
  CHECK(binary::check_lengths(request(packet(binary::kFlush, 4, 0, 8) + "xxxx")) == binary::LengthVerdict::Invalid);
  CHECK(binary::check_lengths(request(packet(binary::kVerbosity, 4, 0, 4) + "xxxx")) == binary::LengthVerdict::Unknown);
  CHECK(binary::check_lengths(request(packet(0x50, 0, 0, 0))) == binary::LengthVerdict::Unknown);
  CHECK(binary::check_lengths(request(packet(binary::kStat, 0, 0, 9))) == binary::LengthVerdict::Ok);
  CHECK(binary::check_lengths(request(packet(binary::kNoop, 0, 0, 1))) == binary::LengthVerdict::Invalid);
}

TEST("binary codec: a response header, opaque echoed, and the status texts") {
  char h[binary::kHeaderLength];
  binary::encode_header(h, binary::kGetQ, binary::Status::KeyNotFound, 4, 3, 16, 0x01020304, 0x0102030405060708ull);
  CHECK_EQ(static_cast<uint8_t>(h[0]), binary::kResponseMagic);
  CHECK_EQ(static_cast<uint8_t>(h[1]), uint8_t{binary::kGetQ});
  CHECK_EQ(static_cast<uint8_t>(h[3]), uint8_t{3});
  CHECK_EQ(static_cast<uint8_t>(h[4]), uint8_t{4});
  CHECK_EQ(static_cast<uint8_t>(h[5]), uint8_t{0});
  CHECK_EQ(static_cast<uint8_t>(h[7]), uint8_t{1});
  CHECK_EQ(binary::load_u32(h + 8), 16u);
  CHECK_EQ(binary::load_u32(h + 12), 0x01020304u);
  CHECK_EQ(binary::load_u64(h + 16), 0x0102030405060708ull);
  CHECK(std::string(binary::status_text(binary::Status::KeyNotFound)) == "Not found");
  CHECK(std::string(binary::status_text(binary::Status::TooLarge)) == "Too large.");
  CHECK(std::string(binary::status_text(binary::Status::Success)).empty());
}

TEST("credentials: constant-time compare over the longer length, -S and -Y rules") {
  CHECK(equal_in_constant_time("secret", "secret"));
  CHECK(!equal_in_constant_time("secret", "secre"));
  CHECK(!equal_in_constant_time("", "x"));
  CHECK(equal_in_constant_time("", ""));
  Credentials c;
  c.set(CredentialKind::Sasl, {{"u", "one"}, {"u", "two"}});
  c.set(CredentialKind::Ascii, {{"u", "one"}, {"u", "two"}});
  CHECK(c.check(CredentialKind::Sasl, "u", "one"));
  CHECK(!c.check(CredentialKind::Sasl, "u", "two"));  // the first line of a user decides
  CHECK(c.check(CredentialKind::Ascii, "u", "two"));  // any entry does
  CHECK(!c.check(CredentialKind::Ascii, "v", "one"));
}
