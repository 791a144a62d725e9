#include "proxy/merge.h"

#include <string_view>
#include <vector>

namespace mcha {
namespace {

// The VALUE blocks of a get reply (framed by frame_reply, so well formed) as [start, end) with
// their keys; false when the reply is not VALUE ... END (an error line).
struct Block {
  std::string_view key;
  size_t start;
  size_t end;
};

bool value_blocks(const std::string& r, std::vector<Block>& out) {
  size_t at = 0;
  for (;;) {
    size_t nl = r.find('\n', at);
    if (nl == std::string::npos) return false;
    if (r.compare(at, 6, "VALUE ") != 0) return nl + 1 == r.size() && r.compare(at, nl + 1 - at, "END\r\n") == 0;
    size_t key_end = r.find(' ', at + 6);
    if (key_end == std::string::npos || key_end > nl) return false;
    // VALUE <key> <flags> <bytes> [<cas>]
    size_t flags_end = r.find(' ', key_end + 1);
    if (flags_end == std::string::npos || flags_end > nl) return false;
    size_t bytes = 0;
    size_t i = flags_end + 1;
    for (; i < nl && r[i] >= '0' && r[i] <= '9'; i++) bytes = bytes * 10 + static_cast<size_t>(r[i] - '0');
    if (i == flags_end + 1 || bytes > r.size()) return false;
    size_t end = nl + 1 + bytes + 2;
    if (end > r.size()) return false;
    out.push_back(Block{std::string_view(r).substr(at + 6, key_end - at - 6), at, end});
    at = end;
  }
}

}  // namespace

void merge_get(const ReplySlot& s, std::string& out) {
  std::vector<std::vector<Block>> blocks(s.parts.size());
  std::vector<uint32_t> part_of(s.keys.size());
  for (size_t p = 0; p < s.parts.size(); p++) {
    for (uint32_t i : s.parts[p].keys) part_of[i] = static_cast<uint32_t>(p);
    if (!value_blocks(s.parts[p].reply, blocks[p])) {
      out = s.parts[p].reply;
      return;
    }
  }
  std::vector<size_t> cursor(s.parts.size(), 0);
  for (size_t i = 0; i < s.keys.size(); i++) {
    uint32_t p = part_of[i];
    if (cursor[p] >= blocks[p].size()) continue;
    const Block& b = blocks[p][cursor[p]];
    if (b.key != s.keys[i]) continue;
    out.append(s.parts[p].reply, b.start, b.end - b.start);
    cursor[p]++;
  }
  out.append("END\r\n");
}

}  // namespace mcha
