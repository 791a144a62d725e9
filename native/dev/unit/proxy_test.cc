// The proxy data path's pure parts (native/src/proxy/): merging a split multi-get, and framing.
#include <string>

#include "check.h"
#include "proxy/binary_framer.h"
#include "proxy/merge.h"
#include "proxy/request_framer.h"

using namespace mcha;

namespace {

ReplySlot split(const std::vector<std::string>& keys, const std::vector<std::vector<uint32_t>>& parts, const std::vector<std::string>& replies) {
  ReplySlot s;
  s.keys = keys;
  for (size_t p = 0; p < parts.size(); p++) {
    SplitPart part;
    part.keys = parts[p];
    part.reply = replies[p];
    part.done = true;
    s.parts.push_back(part);
  }
  return s;
}

// A binary request packet: header, extras, key, value (body length as built unless `body` given).
std::string packet(uint8_t op, const std::string& extras, const std::string& key, const std::string& value, int64_t body = -1) {
  std::string h(24, '\0');
  h[0] = static_cast<char>(0x80);
  h[1] = static_cast<char>(op);
  h[2] = static_cast<char>(key.size() >> 8);
  h[3] = static_cast<char>(key.size());
  h[4] = static_cast<char>(extras.size());
  uint32_t b = body < 0 ? static_cast<uint32_t>(extras.size() + key.size() + value.size()) : static_cast<uint32_t>(body);
  h[8] = static_cast<char>(b >> 24);
  h[9] = static_cast<char>(b >> 16);
  h[10] = static_cast<char>(b >> 8);
  h[11] = static_cast<char>(b);
  h[12] = 'o';
  return h + extras + key + value;
}

}  // namespace

TEST("binary framer: keyed requests (quiet made loud), noop, what needs more and what goes to TypeScript") {
  BinaryRequest r;
  std::string in = packet(0x11, std::string(8, '\0'), "key", "value") + packet(0x0a, "", "", "");
  CHECK(frame_binary(in.data(), in.size(), 0, 1024, r) == BinaryFramed::Keyed);
  CHECK_EQ(static_cast<int>(r.loud), 0x01);
  CHECK(r.quiet);
  CHECK(r.retryable);
  CHECK_EQ(r.end, size_t{24 + 8 + 3 + 5});
  CHECK_EQ(r.body, uint32_t{16});
  CHECK_EQ(r.hash, key_hash("key", 3));
  CHECK(frame_binary(in.data(), in.size(), r.end, 1024, r) == BinaryFramed::Noop);
  CHECK(frame_binary(in.data(), 30, 0, 1024, r) == BinaryFramed::NeedMore);
  CHECK(frame_binary(in.data(), 20, 0, 1024, r) == BinaryFramed::NeedMore);
  // A touch reads its extras and key only: the rest of its body is the next packet's.
  std::string touch = packet(0x1c, std::string(4, '\0'), "k", "", 9);
  CHECK(frame_binary(touch.data(), touch.size(), 0, 1024, r) == BinaryFramed::Keyed);
  CHECK_EQ(r.end, size_t{29});
  CHECK_EQ(r.body, uint32_t{5});
  // An add is not retried; a set with a CAS is not either.
  std::string add = packet(0x02, std::string(8, '\0'), "k", "v");
  CHECK(frame_binary(add.data(), add.size(), 0, 1024, r) == BinaryFramed::Keyed && !r.retryable);
  std::string other[] = {
      packet(0x0b, "", "", ""),                          // version
      packet(0x1b, std::string(4, '\0'), "", ""),        // verbosity: unknown to 1.6.18
      packet(0x00, std::string(4, '\0'), "k", ""),       // get with extras
      packet(0x00, "", std::string(251, 'k'), ""),       // key over 250
      packet(0x00, "", "abc", "", 2),                    // body shorter than the key
      packet(0x01, std::string(8, '\0'), "k", std::string(2000, 'v')),  // value over -I
      std::string(24, 'x'),                              // bad magic
  };
  for (const std::string& o : other) CHECK(frame_binary(o.data(), o.size(), 0, 1024, r) == BinaryFramed::Other);
}

TEST("binary framer: quiet mode drops a get's miss and another command's success, never an error") {
  std::string miss(24, '\0'), ok(24, '\0'), exists(24, '\0');
  miss[7] = 0x01;
  exists[7] = 0x02;
  CHECK(binary_quiet_drops(0x0d, miss.data(), miss.size()));
  CHECK(!binary_quiet_drops(0x0d, ok.data(), ok.size()));
  CHECK(binary_quiet_drops(0x11, ok.data(), ok.size()));
  CHECK(!binary_quiet_drops(0x11, exists.data(), exists.size()));
  CHECK(!binary_quiet_drops(0x14, miss.data(), miss.size()));
}

TEST("merge: hits come back in the order asked, duplicates repeated, misses left out") {
  ReplySlot s = split({"a", "b", "a", "c"}, {{0, 2}, {1, 3}},
                      {"VALUE a 0 1\r\n1\r\nVALUE a 0 1\r\n1\r\nEND\r\n", "VALUE c 5 2\r\n33\r\nEND\r\n"});
  std::string out;
  merge_get(s, out);
  CHECK(out == "VALUE a 0 1\r\n1\r\nVALUE a 0 1\r\n1\r\nVALUE c 5 2\r\n33\r\nEND\r\n");
}

TEST("merge: a part that failed makes the whole reply its error") {
  ReplySlot s = split({"a", "b"}, {{0}, {1}}, {"VALUE a 0 1\r\n1\r\nEND\r\n", "SERVER_ERROR backend timeout\r\n"});
  std::string out;
  merge_get(s, out);
  CHECK(out == "SERVER_ERROR backend timeout\r\n");
}

TEST("framer: plain requests, a partial data block, and what goes to the TypeScript path") {
  LineLimits l;
  l.max_command_line = 2048;
  l.max_complete_line = 16384;
  l.max_get_line = 8 << 20;
  Request req;
  PlainRequest r;
  std::string in = "set k 0 0 3\r\nabc\r\nget k\r\n";
  CHECK(frame_plain(in.data(), in.size(), 0, l, 1024, true, true, true, req, r) == Framed::Plain);
  CHECK_EQ(r.kind, static_cast<int32_t>(kFrameSet));
  CHECK_EQ(r.end, size_t{18});
  CHECK(frame_plain(in.data(), in.size(), r.end, l, 1024, true, true, true, req, r) == Framed::Plain);
  CHECK_EQ(r.kind, static_cast<int32_t>(kFrameGet));
  CHECK_EQ(r.hash, key_hash("k", 1));
  std::string partial = "set k 0 0 3\r\nab";
  CHECK(frame_plain(partial.data(), partial.size(), 0, l, 1024, true, true, true, req, r) == Framed::NeedMore);
  std::string stats = "stats\r\n";
  CHECK(frame_plain(stats.data(), stats.size(), 0, l, 1024, true, true, true, req, r) == Framed::Other);
  std::string long_line(3000, 'x');
  CHECK(frame_plain(long_line.data(), long_line.size(), 0, l, 1024, true, true, true, req, r) == Framed::Other);
  std::string noreply = "delete k noreply\r\n";
  CHECK(frame_plain(noreply.data(), noreply.size(), 0, l, 1024, true, true, true, req, r) == Framed::Plain);
  CHECK_EQ(r.cut, size_t{8});
}
