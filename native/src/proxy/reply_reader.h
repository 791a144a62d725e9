// Framing of a memcached node's replies for the proxy's C++ data path (the same rules as
// src/proxy/reply-reader.ts): the proxy knows which request each reply answers, so it says what
// shape to expect, and a reply that cannot answer that request means the two sides disagree
// about whose reply is whose.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mcha {

// Meta: one meta reply (`VA <len> <flags>*` and its data block, or one line: HD EN NF NS EX
// ME and their flags, or an error). MetaFenced: a quiet meta request with the proxy's `mn`
// after it: a meta reply or none, then exactly "MN\r\n".
// Binary: one binary response packet (header and body) on a binary connection.
enum class ReplyShape : uint8_t { Line = 0, Values = 1, Stats = 2, Meta = 3, MetaFenced = 4, Binary = 5 };

// The bytes of the MN that ends a MetaFenced reply.
constexpr size_t kFencedMnLength = 4;

// The largest reply line (VALUE header, STAT line) a node may send.
constexpr size_t kMaxReplyLine = 64 * 1024;

// The length of the complete reply of `shape` at the start of p[0, n): > 0 when it is whole,
// 0 while more bytes are needed, -1 when the bytes cannot be that reply (out of step, a bad
// VALUE line, a line over kMaxReplyLine): the connection must then be dropped. `scan` carries
// progress across calls for one reply (start it at 0; it is where the next line starts).
long frame_reply(const char* p, size_t n, ReplyShape shape, size_t max_value, size_t& scan);

}  // namespace mcha
