#include "proxy/reply_reader.h"

#include <cstring>

namespace mcha {
namespace {

constexpr size_t kBinaryHeaderLength = 24;
// Besides the value: extras (at most 255) and the key (at most 250).
constexpr size_t kBinaryBodySlack = 512;

bool starts_with(const char* p, size_t len, const char* word) {
  size_t w = strlen(word);
  return len >= w && memcmp(p, word, w) == 0;
}

// The line p[0, len) without its "\r\n" or "\n".
size_t content_length(const char* p, size_t len) {
  if (len > 0 && p[len - 1] == '\n') len--;
  if (len > 0 && p[len - 1] == '\r') len--;
  return len;
}

bool is_end(const char* p, size_t len) { return content_length(p, len) == 3 && memcmp(p, "END", 3) == 0; }

bool is_error(const char* p, size_t len) {
  return starts_with(p, len, "ERROR") || starts_with(p, len, "CLIENT_ERROR") || starts_with(p, len, "SERVER_ERROR");
}

// The <bytes> field of "VALUE <key> <flags> <bytes>[ <cas>]", or -1.
long value_length(const char* p, size_t len) {
  size_t i = 0;
  int field = 0;
  while (i < len && field < 3) {
    if (p[i] == ' ') field++;
    i++;
  }
  if (field < 3) return -1;
  long v = 0;
  int digits = 0;
  for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
    if (++digits > 10) return -1;
    v = v * 10 + (p[i] - '0');
  }
  return digits == 0 ? -1 : v;
}

// The <len> of "VA <len>[ <flags>]", or -1.
long va_length(const char* p, size_t len) {
  long v = 0;
  int digits = 0;
  size_t i = 3;
  for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
    if (++digits > 10) return -1;
    v = v * 10 + (p[i] - '0');
  }
  if (digits == 0 || (i < len && p[i] != ' ')) return -1;
  return v;
}

// A meta status line: its two-letter code alone or with flags.
bool is_meta_code(const char* p, size_t len) {
  static const char* const kCodes[] = {"HD", "EN", "NF", "NS", "EX", "ME"};
  size_t n = content_length(p, len);
  if (n < 2 || (n > 2 && p[2] != ' ')) return false;
  for (const char* code : kCodes)
    if (p[0] == code[0] && p[1] == code[1]) return true;
  return false;
}

bool is_mn(const char* p, size_t n) { return n >= kFencedMnLength && memcmp(p, "MN\r\n", kFencedMnLength) == 0; }

// One meta reply at p[0, n): as frame_reply.
long frame_meta(const char* p, size_t n, size_t max_value) {
  const char* nl = static_cast<const char*>(memchr(p, '\n', n));
  if (!nl) return n > kMaxReplyLine ? -1 : 0;
  size_t len = static_cast<size_t>(nl - p) + 1;
  if (starts_with(p, len, "VA ")) {
    long bytes = va_length(p, content_length(p, len));
    if (bytes < 0 || static_cast<size_t>(bytes) > max_value) return -1;
    size_t whole = len + static_cast<size_t>(bytes) + 2;
    return whole > n ? 0 : static_cast<long>(whole);
  }
  return is_meta_code(p, len) || is_error(p, len) ? static_cast<long>(len) : -1;
}

// One binary response packet: a response magic, then the body its header announces (a value,
// its key and extras: anything longer cannot answer a request the proxy sent).
long frame_binary_reply(const char* p, size_t n, size_t max_value) {
  if (n < kBinaryHeaderLength) return 0;
  if (static_cast<uint8_t>(p[0]) != 0x81) return -1;
  size_t body = (static_cast<size_t>(static_cast<uint8_t>(p[8])) << 24) | (static_cast<size_t>(static_cast<uint8_t>(p[9])) << 16) |
                (static_cast<size_t>(static_cast<uint8_t>(p[10])) << 8) | static_cast<size_t>(static_cast<uint8_t>(p[11]));
  if (body > max_value + kBinaryBodySlack) return -1;
  return n - kBinaryHeaderLength < body ? 0 : static_cast<long>(kBinaryHeaderLength + body);
}

}  // namespace

long frame_reply(const char* p, size_t n, ReplyShape shape, size_t max_value, size_t& scan) {
  if (shape == ReplyShape::Meta) return frame_meta(p, n, max_value);
  if (shape == ReplyShape::Binary) return frame_binary_reply(p, n, max_value);
  if (shape == ReplyShape::MetaFenced) {
    // The node's own reply first, unless quiet mode kept it silent; then our mn's.
    if (is_mn(p, n)) return static_cast<long>(kFencedMnLength);
    long first = frame_meta(p, n, max_value);
    if (first <= 0) return first;
    size_t at = static_cast<size_t>(first);
    if (n - at < kFencedMnLength) return 0;
    return is_mn(p + at, n - at) ? static_cast<long>(at + kFencedMnLength) : -1;
  }
  size_t at = scan;
  for (;;) {
    if (at > n) return -1;
    const char* nl = static_cast<const char*>(memchr(p + at, '\n', n - at));
    if (!nl) {
      scan = at;
      return n - at > kMaxReplyLine ? -1 : 0;
    }
    size_t len = static_cast<size_t>(nl - (p + at)) + 1;  // with its newline
    const char* line = p + at;
    if (shape == ReplyShape::Line) {
      // One line that can be a whole reply: not the start or the end of a multi-line one.
      if (starts_with(line, len, "VALUE ") || starts_with(line, len, "STAT ") || is_end(line, len)) return -1;
      scan = 0;
      return static_cast<long>(len);
    }
    if (shape == ReplyShape::Values && starts_with(line, len, "VALUE ")) {
      long bytes = value_length(line, content_length(line, len));
      if (bytes < 0 || static_cast<size_t>(bytes) > max_value) return -1;
      size_t next = at + len + static_cast<size_t>(bytes) + 2;
      if (next > n) {
        scan = at;
        return 0;
      }
      at = next;
      continue;
    }
    if (shape == ReplyShape::Stats && starts_with(line, len, "STAT ")) {
      at += len;
      continue;
    }
    // END, or an error line: the reply ends here. Anything else is out of step.
    if (!is_end(line, len) && !is_error(line, len)) return -1;
    scan = 0;
    return static_cast<long>(at + len);
  }
}

}  // namespace mcha
