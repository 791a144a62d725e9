// The proxy data path's pure parts (native/src/proxy/): merging a split multi-get, and framing.
#include <string>

#include "check.h"
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

}  // namespace

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
