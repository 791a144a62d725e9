#include "protocol/base64.h"

#include <cstdint>

namespace mcha {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kSkip = 0x80;

struct Digits {
  uint8_t of[256];
  constexpr Digits() : of() {
    for (int i = 0; i < 256; i++) of[i] = kSkip;
    for (int i = 0; i < 64; i++) of[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
    of[static_cast<uint8_t>('=')] = 0;
  }
};
constexpr Digits kDigits;

}  // namespace

size_t decode_base64(const char* src, size_t n, char* out) {
  size_t digits = 0;
  for (size_t i = 0; i < n; i++) digits += kDigits.of[static_cast<uint8_t>(src[i])] != kSkip;
  if (digits == 0 || digits % 4 != 0) return 0;
  // The output never overtakes the input (three bytes out per four in), so out may be src.
  uint8_t block[4];
  size_t count = 0, len = 0;
  int pad = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = static_cast<uint8_t>(src[i]);
    uint8_t d = kDigits.of[c];
    if (d == kSkip) continue;
    if (c == '=') pad++;
    block[count++] = d;
    if (count < 4) continue;
    count = 0;
    if (pad > 2) return 0;
    char bytes[3] = {static_cast<char>((block[0] << 2) | (block[1] >> 4)), static_cast<char>((block[1] << 4) | (block[2] >> 2)),
                     static_cast<char>((block[2] << 6) | block[3])};
    for (int k = 0; k < 3 - pad; k++) out[len++] = bytes[k];
    if (pad > 0) break;
  }
  return len;
}

size_t encode_base64(const char* src, size_t n, char* out) {
  const auto* in = reinterpret_cast<const uint8_t*>(src);
  size_t len = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    out[len++] = kAlphabet[in[i] >> 2];
    out[len++] = kAlphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
    out[len++] = kAlphabet[((in[i + 1] & 0x0f) << 2) | (in[i + 2] >> 6)];
    out[len++] = kAlphabet[in[i + 2] & 0x3f];
  }
  if (i < n) {
    out[len++] = kAlphabet[in[i] >> 2];
    if (i + 1 == n) {
      out[len++] = kAlphabet[(in[i] & 0x03) << 4];
      out[len++] = '=';
    } else {
      out[len++] = kAlphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
      out[len++] = kAlphabet[(in[i + 1] & 0x0f) << 2];
    }
    out[len++] = '=';
  }
  return len;
}

}  // namespace mcha
