import { protocolSuite } from '../../helpers/cases';

/**
 * ms as memcached 1.6.18 serves it (process_mset_command, _finalize_mset, do_store_item):
 * modes, CAS, invalidation, return flags in token order, and which errors swallow the data
 * block (only those found after the data length was parsed).
 */
const K251 = 'k'.repeat(251);
const SET_A = 'set a 7 0 1\r\nx\r\n';
const FLAGS18 = ['T0', 'F0', 'k', 'c', 'q', 'O1', 'I', 'b', 'MS', 'C0', 's', 't', 'f', 'v', 'h', 'l', 'u', 'u'];

protocolSuite('meta set (ms)', [
  { name: 'ms stores; HD', send: 'ms a 3\r\nabc\r\nmg a v f t\r\n', expect: 'HD\r\nVA 3 f0 t-1\r\nabc\r\n' },
  { name: 'text get sees an ms item', send: 'ms a 2 F7\r\nhi\r\nget a\r\n', expect: 'HD\r\nVALUE a 7 2\r\nhi\r\nEND\r\n' },
  { name: 'empty value', send: 'ms a 0\r\n\r\nmg a v\r\n', expect: 'HD\r\nVA 0\r\n\r\n' },
  { name: 'value with CR LF inside', send: 'ms a 4\r\n\r\n\r\n\r\nget a\r\n', expect: 'HD\r\nVALUE a 0 4\r\n\r\n\r\n\r\nEND\r\n' },
  { name: 'F sets client flags', send: 'ms a 1 F4294967295\r\nx\r\nmg a f\r\n', expect: 'HD\r\nHD f4294967295\r\n' },
  { name: 'T sets the TTL', send: 'ms a 1 T100\r\nx\r\nmg a t\r\n', expect: /^HD\r\nHD t(99|100)\r\n$/ },
  { name: 'T-1 stores an expired item', send: 'ms a 1 T-1\r\nx\r\nmg a v\r\n', expect: 'HD\r\nEN\r\n' },
  { name: 'ms replaces the old value, flags and TTL', send: 'set a 5 100 3\r\nabc\r\nms a 1\r\nx\r\nmg a v f t\r\n', expect: 'STORED\r\nHD\r\nVA 1 f0 t-1\r\nx\r\n' },
  // Return flags, in request order
  { name: 'k O c in request order', send: 'ms a 1 k O9 c\r\nx\r\ngets a\r\n', expect: /^HD ka O9 c(\d+)\r\nVALUE a 0 1 \1\r\nx\r\nEND\r\n$/ },
  { name: 'c O k reversed', send: 'ms a 1 c O9 k\r\nx\r\ngets a\r\n', expect: /^HD c(\d+) O9 ka\r\nVALUE a 0 1 \1\r\nx\r\nEND\r\n$/ },
  { name: 'an opaque holding k and c letters is copied whole', send: 'ms a 1 Okc k\r\nx\r\n', expect: 'HD Okc ka\r\n' },
  { name: 'a bare O is echoed as O', send: 'ms a 1 O\r\nx\r\n', expect: 'HD O\r\n' },
  { name: 'return flags also on NS', send: `${SET_A}ms a 1 ME O5 k\r\ny\r\n`, expect: 'STORED\r\nNS O5 ka\r\n' },
  { name: 'mg-only flags are accepted and ignored', send: 'ms a 1 t f v h l u\r\nx\r\n', expect: 'HD\r\n' },
  { name: 'c of a CAS mismatch is c0', send: `${SET_A}ms a 1 C1 c\r\ny\r\n`, expect: 'STORED\r\nEX c0\r\n' },
  // Modes
  { name: 'ME (add) on a miss stores', send: 'ms a 1 ME\r\nx\r\nget a\r\n', expect: 'HD\r\nVALUE a 0 1\r\nx\r\nEND\r\n' },
  { name: 'ME (add) on a hit is NS', send: `${SET_A}ms a 1 ME\r\ny\r\nget a\r\n`, expect: 'STORED\r\nNS\r\nVALUE a 7 1\r\nx\r\nEND\r\n' },
  { name: 'MR (replace) on a miss is NS', send: 'ms a 1 MR\r\nx\r\nget a\r\n', expect: 'NS\r\nEND\r\n' },
  { name: 'MR (replace) on a hit stores', send: `${SET_A}ms a 1 MR F3\r\ny\r\nget a\r\n`, expect: 'STORED\r\nHD\r\nVALUE a 3 1\r\ny\r\nEND\r\n' },
  { name: 'MS is a set', send: `${SET_A}ms a 1 MS\r\ny\r\nms b 1 MS\r\nz\r\nget a b\r\n`, expect: 'STORED\r\nHD\r\nHD\r\nVALUE a 0 1\r\ny\r\nVALUE b 0 1\r\nz\r\nEND\r\n' },
  { name: 'MA appends, keeping flags and TTL', send: 'set a 7 100 1\r\nx\r\nms a 2 MA F1 T0\r\nyz\r\nmg a v f t\r\n', expect: /^STORED\r\nHD\r\nVA 3 f7 t(99|100)\r\nxyz\r\n$/ },
  { name: 'MP prepends', send: `${SET_A}ms a 2 MP\r\nvw\r\nget a\r\n`, expect: 'STORED\r\nHD\r\nVALUE a 7 3\r\nvwx\r\nEND\r\n' },
  { name: 'MA and MP on a miss are NS', send: 'ms a 1 MA\r\nx\r\nms a 1 MP\r\nx\r\nget a\r\n', expect: 'NS\r\nNS\r\nEND\r\n' },
  { name: 'an append changes the CAS', send: `${SET_A}gets a\r\nms a 1 MA c\r\ny\r\n`, expect: /^STORED\r\nVALUE a 7 1 (\d+)\r\nx\r\nEND\r\nHD c(?!\1\r)\d+\r\n$/ },
  { name: 'lowercase mode letters are invalid', send: 'ms a 1 Ms\r\nx\r\nget a\r\n', expect: 'CLIENT_ERROR invalid mode for ms M token\r\nEND\r\n' },
  { name: 'invalid mode still swallows the data', send: 'ms a 3 MX\r\nabc\r\nmn\r\n', expect: 'CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n' },
  { name: 'M of the wrong length swallows the data', send: 'ms a 3 MSS\r\nabc\r\nmn\r\n', expect: 'CLIENT_ERROR incorrect length for M token\r\nMN\r\n' },
  { name: 'a bare M', send: 'ms a 3 M\r\nabc\r\nmn\r\n', expect: 'CLIENT_ERROR incorrect length for M token\r\nMN\r\n' },
  // CAS
  { name: 'C on a miss is NF', send: 'ms a 1 C123\r\nx\r\nget a\r\n', expect: 'NF\r\nEND\r\n' },
  { name: 'C mismatch is EX and keeps the value', send: `${SET_A}ms a 1 C1\r\ny\r\nget a\r\n`, expect: 'STORED\r\nEX\r\nVALUE a 7 1\r\nx\r\nEND\r\n' },
  { name: 'C0 is a mismatch', send: `${SET_A}ms a 1 C0\r\ny\r\n`, expect: 'STORED\r\nEX\r\n' },
  { name: 'C with replace mode is a cas', send: `${SET_A}ms a 1 MR C1\r\ny\r\nms b 1 MR C1\r\ny\r\n`, expect: 'STORED\r\nEX\r\nNF\r\n' },
  { name: 'C with append mode: mismatch is EX, miss is NS', send: `${SET_A}ms a 1 MA C1\r\ny\r\nms b 1 MA C1\r\ny\r\n`, expect: 'STORED\r\nEX\r\nNS\r\n' },
  { name: 'C with add mode is an add (miss stores, hit NS)', send: `${SET_A}ms a 1 ME C1\r\ny\r\nms b 1 ME C1\r\ny\r\nget a b\r\n`, expect: 'STORED\r\nNS\r\nHD\r\nVALUE a 7 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n' },
  { name: 'bad C token swallows the data', send: 'ms a 1 Cx\r\nx\r\nmn\r\n', expect: 'CLIENT_ERROR bad token in command line format\r\nMN\r\n' },
  // Invalidation with an older CAS
  { name: 'I with an older CAS stores the value as stale', send: `${SET_A}ms a 1 C1 I\r\ny\r\nmg a v\r\nmg a v\r\n`, expect: 'STORED\r\nHD\r\nVA 1 X W\r\ny\r\nVA 1 Z X\r\ny\r\n' },
  { name: 'I with an older CAS keeps the TTL', send: 'set a 0 100 1\r\nx\r\nms a 1 C1 I T0\r\ny\r\nmg a t\r\n', expect: /^STORED\r\nHD\r\nHD t(99|100) X W\r\n$/ },
  { name: 'I with an older CAS keeps a sent token', send: 'mg a N30\r\nms a 1 C1 I\r\ny\r\nmg a v\r\n', expect: 'HD W\r\nHD\r\nVA 1 Z X\r\ny\r\n' },
  { name: 'I with a newer CAS is EX', send: `${SET_A}ms a 1 C18446744073709551615 I\r\ny\r\nget a\r\n`, expect: 'STORED\r\nEX\r\nVALUE a 7 1\r\nx\r\nEND\r\n' },
  { name: 'I without C is a plain set', send: `${SET_A}ms a 1 I\r\ny\r\nmg a v\r\n`, expect: 'STORED\r\nHD\r\nVA 1\r\ny\r\n' },
  { name: 'I on a miss is NF', send: 'ms a 1 C1 I\r\ny\r\n', expect: 'NF\r\n' },
  { name: 'a stale item shows its CAS with X W', send: `${SET_A}md a I\r\nmg a c\r\n`, expect: /^STORED\r\nHD\r\nHD c\d+ X W\r\n$/ },
  // Quiet mode
  { name: 'q hides HD', send: 'ms a 1 q\r\nx\r\nmn\r\n', expect: 'MN\r\n' },
  { name: 'q does not hide NS, EX, NF', send: `${SET_A}ms a 1 q ME\r\ny\r\nms a 1 q C1\r\ny\r\nms b 1 q C1\r\ny\r\nmn\r\n`, expect: 'STORED\r\nNS\r\nEX\r\nNF\r\nMN\r\n' },
  { name: 'q does not hide errors', send: 'ms a 1 q z\r\nx\r\nms a 1 q\r\nxyz\r\nmn\r\n', expect: 'CLIENT_ERROR invalid flag\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\nMN\r\n' },
  // Base64 keys
  { name: 'b stores under the decoded key', send: 'ms Zm9v 1 b\r\nx\r\nget foo\r\n', expect: 'HD\r\nVALUE foo 0 1\r\nx\r\nEND\r\n' },
  { name: 'b with k returns the key base64 with b', send: 'ms Zm9v 1 b k\r\nx\r\n', expect: 'HD kZm9v b\r\n' },
  { name: 'bad base64 swallows the data', send: 'ms !!!! 1 b\r\nx\r\nmn\r\n', expect: 'CLIENT_ERROR error decoding key\r\nMN\r\n' },
  { name: 'a text set of the same key drops the binary mark', send: 'ms Zm9v 1 b\r\nx\r\nset foo 0 0 1\r\ny\r\nmg foo k\r\n', expect: 'HD\r\nSTORED\r\nHD kfoo\r\n' },
  // Errors that swallow the data block, and those that do not
  { name: 'ms without a data length (not swallowed)', send: 'ms a\r\nx\r\n', expect: 'CLIENT_ERROR bad command line format\r\nERROR\r\n' },
  { name: 'ms alone is ERROR', send: 'ms\r\n', expect: 'ERROR\r\n' },
  { name: 'bad data length (not swallowed)', send: 'ms a abc\r\nx\r\n', expect: 'CLIENT_ERROR bad command line format\r\nERROR\r\n' },
  { name: 'negative data length (not swallowed)', send: 'ms a -1\r\nx\r\n', expect: 'CLIENT_ERROR bad command line format\r\nERROR\r\n' },
  { name: '251-byte key (not swallowed)', send: `ms ${K251} 1\r\nx\r\n`, expect: 'CLIENT_ERROR bad command line format\r\nERROR\r\n' },
  { name: 'too many tokens (not swallowed)', send: `ms a 1 ${FLAGS18.join(' ')}\r\nx\r\n`, expect: 'CLIENT_ERROR options flags too long\r\nERROR\r\n' },
  { name: 'unknown flag (swallowed)', send: 'ms a 1 z\r\nx\r\nget a\r\n', expect: 'CLIENT_ERROR invalid flag\r\nEND\r\n' },
  { name: 'S is not a flag in 1.6.18 (swallowed)', send: 'ms a 1 S1\r\nx\r\nget a\r\n', expect: 'CLIENT_ERROR invalid flag\r\nEND\r\n' },
  { name: 'duplicate flag (swallowed)', send: 'ms a 1 T1 T2\r\nx\r\nget a\r\n', expect: 'CLIENT_ERROR duplicate flag\r\nEND\r\n' },
  { name: 'bad F token is a bad command line format (swallowed)', send: 'ms a 1 Fx\r\nx\r\nget a\r\n', expect: 'CLIENT_ERROR bad command line format\r\nEND\r\n' },
  { name: 'bad T token (swallowed)', send: 'ms a 1 Tx\r\nx\r\nget a\r\n', expect: 'CLIENT_ERROR bad token in command line format\r\nEND\r\n' },
  { name: '33-byte opaque (swallowed)', send: `ms a 1 O${'o'.repeat(32)}\r\nx\r\nget a\r\n`, expect: 'CLIENT_ERROR opaque token too long\r\nEND\r\n' },
  { name: '32-byte opaque is fine', send: `ms a 1 O${'o'.repeat(31)}\r\nx\r\n`, expect: `HD O${'o'.repeat(31)}\r\n` },
  { name: 'data not ending in CRLF', send: 'ms a 1\r\nabc\r\nget a\r\n', expect: 'CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n' },
  { name: 'object too large: refused, swallowed, old value removed', send: `${SET_A}ms a 2000000\r\n${'z'.repeat(2000000)}\r\nget a\r\n`, expect: 'STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\n' },
  { name: 'the largest value at -I 1m (1-byte key, flags 0)', send: `ms b 1048516\r\n${'z'.repeat(1048516)}\r\nms c 1048517\r\n${'z'.repeat(1048517)}\r\n`, expect: 'HD\r\nSERVER_ERROR object too large for cache\r\n' },
  { name: 'pipelined ms and mg answer in order', send: Array.from({ length: 30 }, (_, i) => `ms k${i} ${String(i).length} q\r\n${i}\r\n`).join('') + 'mg k0 v\r\nmg k29 v k\r\nmn\r\n', expect: 'VA 1\r\n0\r\nVA 2 kk29\r\n29\r\nMN\r\n' },
]);
