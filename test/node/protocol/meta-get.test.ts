import { protocolSuite } from '../../helpers/cases';

/**
 * mg as memcached 1.6.18 serves it (proto_text.c process_mget_command): return flags in
 * request-token order, T/N taking effect at their position, the W/X/Z lease marks after every
 * other flag, and the error lines of _meta_flag_preparse. TTLs and last-access seconds are
 * matched with a one-second allowance where a clock tick can fall inside the case.
 */
const K250 = 'k'.repeat(250);
const K251 = 'k'.repeat(251);
const SET_A = 'set a 5 0 3\r\nabc\r\n';
const SET_A_TTL = 'set a 5 100 3\r\nabc\r\n';
// 16 distinct mg flags and a repeated one: 20 tokens with the command and key.
const FLAGS18 = ['s', 'v', 'f', 't', 'c', 'k', 'h', 'l', 'u', 'q', 'O1', 'T0', 'N0', 'R0', 'P', 'L', 'v', 'v'];

protocolSuite('meta get (mg)', [
  // Hits and misses, VA/HD/EN
  { name: 'miss is EN', send: 'mg a v\r\n', expect: 'EN\r\n' },
  { name: 'miss without flags is EN', send: 'mg a\r\n', expect: 'EN\r\n' },
  { name: 'hit without flags is HD', send: `${SET_A}mg a\r\n`, expect: 'STORED\r\nHD\r\n' },
  { name: 'v returns VA <len> and the data', send: `${SET_A}mg a v\r\n`, expect: 'STORED\r\nVA 3\r\nabc\r\n' },
  { name: 'empty value', send: 'set a 0 0 0\r\n\r\nmg a v s\r\n', expect: 'STORED\r\nVA 0 s0\r\n\r\n' },
  { name: 'binary value with CR LF inside', send: 'set a 0 0 4\r\n\r\n\r\n\r\nmg a v\r\n', expect: 'STORED\r\nVA 4\r\n\r\n\r\n\r\n' },
  { name: 'expired item is a miss', send: 'set a 0 -1 1\r\nx\r\nmg a v\r\n', expect: 'STORED\r\nEN\r\n' },
  { name: 'only the first byte of a flag token counts (vjunk is v)', send: `${SET_A}mg a vjunk s99\r\n`, expect: 'STORED\r\nVA 3 s3\r\nabc\r\n' },
  // Return flags, each alone and in request order
  { name: 's is the value size', send: `${SET_A}mg a s\r\n`, expect: 'STORED\r\nHD s3\r\n' },
  { name: 'f is the client flags', send: `${SET_A}mg a f\r\n`, expect: 'STORED\r\nHD f5\r\n' },
  { name: 'f of 0 flags is f0', send: 'set a 0 0 1\r\nx\r\nmg a f\r\n', expect: 'STORED\r\nHD f0\r\n' },
  { name: 'f of the largest flags', send: 'set a 4294967295 0 1\r\nx\r\nmg a f\r\n', expect: 'STORED\r\nHD f4294967295\r\n' },
  { name: 'k returns the key', send: `${SET_A}mg a k\r\n`, expect: 'STORED\r\nHD ka\r\n' },
  { name: 'O returns the opaque token', send: `${SET_A}mg a Oxyz\r\n`, expect: 'STORED\r\nHD Oxyz\r\n' },
  { name: 'a bare O is echoed as O', send: `${SET_A}mg a O\r\n`, expect: 'STORED\r\nHD O\r\n' },
  { name: 't of an item that never expires is -1', send: `${SET_A}mg a t\r\n`, expect: 'STORED\r\nHD t-1\r\n' },
  { name: 't of an item with a TTL', send: `${SET_A_TTL}mg a t\r\n`, expect: /^STORED\r\nHD t(99|100)\r\n$/ },
  { name: 'c is the CAS gets shows', send: `${SET_A}mg a c\r\ngets a\r\n`, expect: /^STORED\r\nHD c(\d+)\r\nVALUE a 5 3 \1\r\nabc\r\nEND\r\n$/ },
  { name: 'h is 0 before the first fetch, 1 after', send: `${SET_A}mg a h\r\nmg a h\r\n`, expect: 'STORED\r\nHD h0\r\nHD h1\r\n' },
  { name: 'a text get marks the item fetched', send: `${SET_A}get a\r\nmg a h\r\n`, expect: 'STORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\nHD h1\r\n' },
  { name: 'u does not bump: h stays 0', send: `${SET_A}mg a u h\r\nmg a u h\r\nmg a h\r\n`, expect: 'STORED\r\nHD h0\r\nHD h0\r\nHD h0\r\n' },
  { name: 'l is seconds since the last access', send: `${SET_A}mg a l\r\n`, expect: /^STORED\r\nHD l[01]\r\n$/ },
  {
    name: 'every return flag in request order',
    send: `${SET_A_TTL}mg a v O9 k c f s t h l\r\ngets a\r\n`,
    expect: /^STORED\r\nVA 3 O9 ka c(\d+) f5 s3 t(99|100) h0 l[01]\r\nabc\r\nVALUE a 5 3 \1\r\nabc\r\nEND\r\n$/,
  },
  { name: 'the same flags reversed come back reversed', send: `${SET_A}mg a l h t s f k O9 v\r\n`, expect: /^STORED\r\nVA 3 l[01] h0 t-1 s3 f5 ka O9\r\nabc\r\n$/ },
  // Miss: only O and k are echoed
  { name: 'miss echoes k and O in order, nothing else', send: 'mg a s v t c f O7 k h l\r\n', expect: 'EN O7 ka\r\n' },
  // Quiet mode
  { name: 'q hides EN', send: 'mg a q v\r\nmn\r\n', expect: 'MN\r\n' },
  { name: 'q does not hide a hit (HD)', send: `${SET_A}mg a q\r\nmn\r\n`, expect: 'STORED\r\nHD\r\nMN\r\n' },
  { name: 'q does not hide a hit (VA)', send: `${SET_A}mg a q v k\r\nmn\r\n`, expect: 'STORED\r\nVA 3 ka\r\nabc\r\nMN\r\n' },
  { name: 'pipelined quiet gets: only hits answer, mn ends', send: `${SET_A}mg x q v k\r\nmg a q v k\r\nmg y q v k\r\nmn\r\n`, expect: 'STORED\r\nVA 3 ka\r\nabc\r\nMN\r\n' },
  { name: 'q never hides an error', send: 'mg a q Tx\r\nmn\r\n', expect: 'CLIENT_ERROR bad token in command line format\r\nMN\r\n' },
  // T (touch) at its position
  { name: 'T sets the TTL; t after T shows it', send: `${SET_A}mg a T30 t\r\nmg a t\r\n`, expect: /^STORED\r\nHD t(29|30)\r\nHD t(29|30)\r\n$/ },
  { name: 't before T shows the old TTL', send: `${SET_A}mg a t T30\r\nmg a t\r\n`, expect: /^STORED\r\nHD t-1\r\nHD t(29|30)\r\n$/ },
  { name: 'T0 makes the item immortal', send: `${SET_A_TTL}mg a T0 t\r\n`, expect: 'STORED\r\nHD t-1\r\n' },
  { name: 'T-1 expires the item', send: `${SET_A}mg a T-1\r\nmg a v\r\n`, expect: 'STORED\r\nHD\r\nEN\r\n' },
  { name: 'T does not change the CAS', send: `${SET_A}gets a\r\nmg a T30 c\r\n`, expect: /^STORED\r\nVALUE a 5 3 (\d+)\r\nabc\r\nEND\r\nHD c\1\r\n$/ },
  { name: 'T on a miss is EN', send: 'mg a T30 v\r\n', expect: 'EN\r\n' },
  // ttl_set is only set while answering a hit: a T miss counts as a get miss, not a touch miss.
  { name: 'T counts as a touch on a hit, as a get miss on a miss', send: `stats reset\r\n${SET_A}mg a T30\r\nmg b T30\r\nstats\r\n`, expect: /^RESET\r\nSTORED\r\nHD\r\nEN\r\n[^]*STAT cmd_get 1\r\n[^]*STAT cmd_touch 1\r\n[^]*STAT get_hits 0\r\nSTAT get_misses 1\r\n[^]*STAT touch_hits 1\r\nSTAT touch_misses 0\r\n/ },
  { name: 'mg without T counts as a get in stats', send: `stats reset\r\n${SET_A}mg a v\r\nmg b\r\nstats\r\n`, expect: /^RESET\r\nSTORED\r\nVA 3\r\nabc\r\nEN\r\n[^]*STAT cmd_get 2\r\n[^]*STAT get_hits 1\r\nSTAT get_misses 1\r\n/ },
  // N (vivify), R (recache), and the W/X/Z marks
  { name: 'N on a miss creates an empty item and wins', send: 'mg a N30 s v\r\n', expect: 'VA 0 s0 W\r\n\r\n' },
  { name: 'the second N sees the token already sent (Z)', send: 'mg a N30 v\r\nmg a N30 v\r\nmg a v\r\n', expect: 'VA 0 W\r\n\r\nVA 0 Z\r\n\r\nVA 0 Z\r\n\r\n' },
  { name: 'N sets the TTL at its position: t after N', send: 'mg a N30 t\r\n', expect: /^HD t(29|30) W\r\n$/ },
  { name: 'N sets the TTL at its position: t before N is -1', send: 'mg a t N30\r\nmg a t\r\n', expect: /^HD t-1 W\r\nHD t(29|30) Z\r\n$/ },
  { name: 'N on a hit changes nothing', send: `${SET_A}mg a N30 t v\r\n`, expect: 'STORED\r\nVA 3 t-1\r\nabc\r\n' },
  { name: 'a vivified item has flags 0 and a CAS', send: 'mg a N30 f c\r\ngets a\r\n', expect: /^HD f0 c(\d+) W\r\nVALUE a 0 0 \1\r\n\r\nEND\r\n$/ },
  { name: 'ms over a vivified item clears the token', send: 'mg a N30\r\nms a 1\r\nx\r\nmg a v\r\n', expect: 'HD W\r\nHD\r\nVA 1\r\nx\r\n' },
  { name: 'R wins when the remaining TTL is below the token', send: `${SET_A_TTL}mg a R200 v\r\nmg a R200 v\r\n`, expect: 'STORED\r\nVA 3 W\r\nabc\r\nVA 3 Z\r\nabc\r\n' },
  { name: 'R does not win when the remaining TTL is above the token', send: `${SET_A_TTL}mg a R30 v\r\n`, expect: 'STORED\r\nVA 3\r\nabc\r\n' },
  { name: 'R never wins on an item without TTL', send: `${SET_A}mg a R30 v\r\n`, expect: 'STORED\r\nVA 3\r\nabc\r\n' },
  { name: 'stale item: first reader wins (X W), the next sees Z X', send: `${SET_A}md a I\r\nmg a v\r\nmg a v c\r\n`, expect: /^STORED\r\nHD\r\nVA 3 X W\r\nabc\r\nVA 3 c\d+ Z X\r\nabc\r\n$/ },
  { name: 'W X Z come after every requested flag', send: `${SET_A}md a I\r\nmg a k O1 s\r\n`, expect: 'STORED\r\nHD\r\nHD ka O1 s3 X W\r\n' },
  // Base64 keys
  { name: 'b decodes the key (foo)', send: 'set foo 0 0 1\r\nx\r\nmg Zm9v b v\r\n', expect: 'STORED\r\nVA 1\r\nx\r\n' },
  { name: 'b with k on a text-stored item returns the raw key', send: 'set foo 0 0 1\r\nx\r\nmg Zm9v b k\r\n', expect: 'STORED\r\nHD kfoo\r\n' },
  { name: 'an ms b item returns its key base64 with b, also to a plain mg', send: 'ms Zm9v 1 b\r\nx\r\nmg Zm9v b k v\r\nmg foo k\r\n', expect: 'HD\r\nVA 1 kZm9v b\r\nx\r\nHD kZm9v b\r\n' },
  { name: 'b on a miss echoes the key base64 with b', send: 'mg Zm9v b k\r\n', expect: 'EN kZm9v b\r\n' },
  { name: 'binary key bytes round-trip', send: 'ms AAEC/w== 1 b\r\nx\r\nmg AAEC/w== b k s\r\n', expect: 'HD\r\nHD kAAEC/w== b s1\r\n' },
  { name: 'bad base64 key', send: 'mg !!!! b v\r\n', expect: 'CLIENT_ERROR error decoding key\r\n' },
  // Limits and errors
  { name: 'mg alone is ERROR', send: 'mg\r\n', expect: 'ERROR\r\n' },
  { name: '250-byte key is fine', send: `set ${K250} 0 0 1\r\nx\r\nmg ${K250} k v\r\n`, expect: `STORED\r\nVA 1 k${K250}\r\nx\r\n` },
  { name: '251-byte key', send: `mg ${K251} v\r\n`, expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: 'key length is checked on the base64 text, before decoding', send: `mg ${'QUFB'.repeat(63)} b v\r\n`, expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: '32-byte opaque token is fine', send: `mg a O${'o'.repeat(31)}\r\n`, expect: `EN O${'o'.repeat(31)}\r\n` },
  { name: '33-byte opaque token is too long (miss)', send: `mg a O${'o'.repeat(32)}\r\n`, expect: 'CLIENT_ERROR opaque token too long\r\n' },
  { name: '33-byte opaque token is too long (hit)', send: `${SET_A}mg a v O${'o'.repeat(32)}\r\n`, expect: 'STORED\r\nCLIENT_ERROR opaque token too long\r\n' },
  { name: 'a too-long opaque still counts as a fetch (memcached marks it at the look-up)', send: `${SET_A}mg a v O${'o'.repeat(32)}\r\nmg a h\r\n`, expect: 'STORED\r\nCLIENT_ERROR opaque token too long\r\nHD h1\r\n' },
  { name: '... but not with h, l, N, T or R, which delay that mark past the bad opaque', send: `${SET_A}mg a h O${'o'.repeat(32)}\r\nmg a l T0 O${'o'.repeat(32)}\r\nmg a h\r\n`, expect: 'STORED\r\nCLIENT_ERROR opaque token too long\r\nCLIENT_ERROR opaque token too long\r\nHD h0\r\n' },
  { name: 'unknown flag', send: 'mg a v z\r\n', expect: 'CLIENT_ERROR invalid flag\r\n' },
  { name: 'ms-only flags are accepted and ignored by mg', send: `${SET_A}mg a F5 C0 I MS J1 D1 v\r\n`, expect: 'STORED\r\nVA 3\r\nabc\r\n' },
  { name: 'duplicate flag', send: 'mg a v v\r\n', expect: 'CLIENT_ERROR duplicate flag\r\n' },
  { name: 'duplicate by first byte', send: 'mg a Oa Ob\r\n', expect: 'CLIENT_ERROR duplicate flag\r\n' },
  { name: 'a flag byte of 127 or more is a "duplicate flag"', send: 'mg a \x80\r\n', expect: 'CLIENT_ERROR duplicate flag\r\n' },
  { name: 'bad T token', send: 'mg a Tabc\r\n', expect: 'CLIENT_ERROR bad token in command line format\r\n' },
  { name: 'empty T token', send: 'mg a T\r\n', expect: 'CLIENT_ERROR bad token in command line format\r\n' },
  { name: 'bad N token', send: 'mg a N1x\r\n', expect: 'CLIENT_ERROR bad token in command line format\r\n' },
  { name: 'bad R token', send: 'mg a R\r\n', expect: 'CLIENT_ERROR bad token in command line format\r\n' },
  { name: 'a bad token does not vivify', send: 'mg a N30 Tx\r\nmg a v\r\n', expect: 'CLIENT_ERROR bad token in command line format\r\nEN\r\n' },
  { name: '17 flag tokens are parsed (here: a duplicate)', send: `mg a ${FLAGS18.slice(0, 17).join(' ')}\r\n`, expect: 'CLIENT_ERROR duplicate flag\r\n' },
  { name: '18 flag tokens are too many', send: `mg a ${FLAGS18.join(' ')}\r\n`, expect: 'CLIENT_ERROR options flags are too long\r\n' },
  { name: 'the key length is checked before the token count', send: `mg ${K251} ${FLAGS18.join(' ')}\r\n`, expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: 'the error is one line and the connection goes on', send: 'mg a z\r\nmg a v\r\nmn\r\n', expect: 'CLIENT_ERROR invalid flag\r\nEN\r\nMN\r\n' },
  { name: 'double spaces between tokens', send: `${SET_A}mg  a  s   v\r\n`, expect: 'STORED\r\nVA 3 s3\r\nabc\r\n' },
  { name: 'bare LF line ending', send: `${SET_A}mg a v\n`, expect: 'STORED\r\nVA 3\r\nabc\r\n' },
]);
