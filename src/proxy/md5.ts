/**
 * MD5 (RFC 1321) of a latin1 string (one byte per char, as keys are held), returning the
 * digest as four little-endian 32-bit words: word 0 is what libmemcached's MD5 key hash
 * returns, words 0..3 are the four ketama points one server label yields. No allocation per
 * call: keys hash on the proxy's hot path.
 */
const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

const block = new Int32Array(16);
const digest = new Uint32Array(4);

export function md5Words(text: string): Uint32Array {
  let a0 = 0x67452301 | 0;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476 | 0;
  const n = text.length;
  // Message + 0x80 + zero padding + 64-bit bit length, in 64-byte blocks.
  const blocks = ((n + 8) >>> 6) + 1;
  for (let b = 0; b < blocks; b++) {
    block.fill(0);
    const base = b * 64;
    for (let i = 0; i < 64; i++) {
      const at = base + i;
      let byte: number;
      if (at < n) byte = text.charCodeAt(at) & 0xff;
      else if (at === n) byte = 0x80;
      else continue;
      block[i >> 2]! |= byte << ((i & 3) * 8);
    }
    if (b === blocks - 1) {
      block[14] = (n * 8) | 0;
      block[15] = Math.floor((n * 8) / 2 ** 32) | 0;
    }
    let a = a0;
    let bb = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (bb & c) | (~bb & d);
        g = i;
      } else if (i < 32) {
        f = (d & bb) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = bb ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (bb | ~d);
        g = (7 * i) & 15;
      }
      const s = S[((i >> 4) << 2) | (i & 3)]!;
      const x = (a + f + K[i]! + block[g]!) | 0;
      a = d;
      d = c;
      c = bb;
      bb = (bb + ((x << s) | (x >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + bb) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  digest[0] = a0;
  digest[1] = b0;
  digest[2] = c0;
  digest[3] = d0;
  return digest;
}
