import { protocolSuite } from '../../helpers/cases';

/**
 * me (process_meta_command), mn, the two-letter dispatch, and text and meta commands seeing
 * the same items and CAS uniques. me's size= is memcached's item size (48-byte header, key and
 * its NUL, 4 bytes of client flags when non-zero, data with CRLF, 8 bytes of CAS) and cls= the
 * slab class that size falls in with -n 48 -f 1.25.
 */
const K250 = 'k'.repeat(250);
const K251 = 'k'.repeat(251);

protocolSuite('meta debug (me), mn and dispatch', [
  { name: 'me on a miss is EN', send: 'me a\r\n', expect: 'EN\r\n' },
  { name: 'me of a small item', send: 'set a 0 0 1\r\nx\r\nme a\r\n', expect: /^STORED\r\nME a exp=-1 la=[01] cas=\d+ fetch=no cls=1 size=61\r\n$/ },
  { name: 'me cas= is the CAS gets shows', send: 'set a 0 0 1\r\nx\r\ngets a\r\nme a\r\n', expect: /^STORED\r\nVALUE a 0 1 (\d+)\r\nx\r\nEND\r\nME a exp=-1 la=[01] cas=\1 fetch=yes cls=1 size=61\r\n$/ },
  { name: 'flags cost 4 bytes of size', send: 'set a 7 0 1\r\nx\r\nme a\r\n', expect: /^STORED\r\nME a exp=-1 la=[01] cas=\d+ fetch=no cls=1 size=65\r\n$/ },
  { name: 'exp= is negative for a future expiry', send: 'set a 0 100 1\r\nx\r\nme a\r\n', expect: /^STORED\r\nME a exp=-(99|100) la=[01] cas=\d+ fetch=no cls=1 size=61\r\n$/ },
  { name: 'me does not bump the item', send: 'set a 0 0 1\r\nx\r\nme a\r\nmg a h\r\n', expect: /^STORED\r\nME a [^\r]*fetch=no[^\r]*\r\nHD h0\r\n$/ },
  { name: 'an item of 200 bytes is in class 3', send: `set a 0 0 88\r\n${'v'.repeat(88)}\r\nme a\r\n`, expect: /^STORED\r\nME a exp=-1 la=[01] cas=\d+ fetch=no cls=3 size=148\r\n$/ },
  { name: 'the edge of class 1 (96 bytes)', send: `set a 0 0 36\r\n${'v'.repeat(36)}\r\nset b 0 0 37\r\n${'v'.repeat(37)}\r\nme a\r\nme b\r\n`, expect: /^STORED\r\nSTORED\r\nME a [^\r]* cls=1 size=96\r\nME b [^\r]* cls=2 size=97\r\n$/ },
  { name: 'a 100 KB item', send: `set a 0 0 100000\r\n${'v'.repeat(100000)}\r\nme a\r\n`, expect: /^STORED\r\nME a exp=-1 la=[01] cas=\d+ fetch=no cls=32 size=100060\r\n$/ },
  { name: 'items over 512 KB are chunked: class 39, size still the whole item', send: `set a 0 0 600000\r\n${'v'.repeat(600000)}\r\nset b 9 0 1000000\r\n${'v'.repeat(1000000)}\r\nme a\r\nme b\r\n`, expect: /^STORED\r\nSTORED\r\nME a exp=-1 la=[01] cas=\d+ fetch=no cls=39 size=600060\r\nME b exp=-1 la=[01] cas=\d+ fetch=no cls=39 size=1000064\r\n$/ },
  { name: 'a 250-byte key', send: `set ${K250} 0 0 1\r\nx\r\nme ${K250}\r\n`, expect: new RegExp(`^STORED\\r\\nME ${K250} exp=-1 la=[01] cas=\\d+ fetch=no cls=7 size=310\\r\\n$`) },
  { name: 'me b looks up the decoded key', send: 'set foo 0 0 1\r\nx\r\nme Zm9v b\r\n', expect: /^STORED\r\nME foo exp=-1 /m },
  { name: 'me of an ms b item prints the key base64, without a b', send: 'ms Zm9v 1 b\r\nx\r\nme foo\r\n', expect: /^HD\r\nME Zm9v exp=-1 la=[01] cas=\d+ fetch=no cls=1 size=63\r\n$/ },
  { name: 'me with a second token other than b looks up the literal key', send: 'set Zm9v 0 0 1\r\nx\r\nme Zm9v x\r\n', expect: /^STORED\r\nME Zm9v exp=-1 /m },
  { name: 'me bad base64', send: 'me !!!! b\r\n', expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: 'me alone', send: 'me\r\n', expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: 'me 251-byte key', send: `me ${K251}\r\n`, expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: 'me counts cmd_meta', send: 'stats reset\r\nme a\r\nme b\r\nstats\r\n', expect: /^RESET\r\nEN\r\nEN\r\n[^]*STAT cmd_meta 2\r\n/ },
  // mn and dispatch
  { name: 'mn is MN', send: 'mn\r\n', expect: 'MN\r\n' },
  { name: 'mn ignores extra tokens', send: 'mn a b c\r\n', expect: 'MN\r\n' },
  { name: 'quiet commands then mn: only NF and the error before MN', send: 'ms a 1 q\r\nx\r\nmg b q v\r\nmd b q\r\nma a q N0\r\nmn\r\n', expect: 'NF\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nMN\r\n' },
  { name: 'an unknown two-letter m command is ERROR', send: 'mz a\r\nmx\r\n', expect: 'ERROR\r\nERROR\r\n' },
  { name: 'a three-letter m command is ERROR', send: 'mgg a\r\n', expect: 'ERROR\r\n' },
  { name: 'upper case is not a meta command', send: 'MG a\r\nMN\r\n', expect: 'ERROR\r\nERROR\r\n' },
  { name: 'a lone m is ERROR', send: 'm\r\n', expect: 'ERROR\r\n' },
  // Text and meta over the same items
  { name: 'set then mg c equals gets', send: 'set a 1 0 1\r\nx\r\nmg a c\r\ngets a\r\n', expect: /^STORED\r\nHD c(\d+)\r\nVALUE a 1 1 \1\r\nx\r\nEND\r\n$/ },
  { name: 'ms c equals gets', send: 'ms a 1 c F2\r\nx\r\ngets a\r\n', expect: /^HD c(\d+)\r\nVALUE a 2 1 \1\r\nx\r\nEND\r\n$/ },
  { name: 'ma c equals gets, and incr gives a new CAS', send: 'set n 0 0 1\r\n1\r\nma n c\r\ngets n\r\nincr n 1\r\nmg n c v\r\n', expect: /^STORED\r\nHD c(\d+)\r\nVALUE n 0 1 \1\r\n2\r\nEND\r\n3\r\nVA 1 c(?!\1\r)\d+\r\n3\r\n$/ },
  { name: 'text touch keeps the CAS mg shows', send: 'set a 0 0 1\r\nx\r\nmg a c\r\ntouch a 100\r\nmg a c t\r\n', expect: /^STORED\r\nHD c(\d+)\r\nTOUCHED\r\nHD c\1 t(99|100)\r\n$/ },
  { name: 'ms then text append then mg', send: 'ms a 1 F3\r\nx\r\nappend a 0 0 1\r\ny\r\nmg a v f\r\n', expect: 'HD\r\nSTORED\r\nVA 2 f3\r\nxy\r\n' },
  { name: 'a text set then md I: mg sees the stale mark', send: 'set a 0 0 1\r\nx\r\nmd a I\r\nmg a c\r\n', expect: /^STORED\r\nHD\r\nHD c\d+ X W\r\n$/ },
  { name: 'text delete removes an ms item', send: 'ms a 1\r\nx\r\ndelete a\r\nmg a\r\n', expect: 'HD\r\nDELETED\r\nEN\r\n' },
  { name: 'text incr on an ma-created counter', send: 'ma a N0 J41\r\nincr a 1\r\n', expect: 'HD\r\n42\r\n' },
  { name: 'flush_all empties meta items', send: 'ms a 1\r\nx\r\nflush_all\r\nmg a\r\n', expect: 'HD\r\nOK\r\nEN\r\n' },
  { name: 'gat keeps the CAS and is seen by mg t', send: 'ms a 1\r\nx\r\nmg a c\r\ngats 100 a\r\nmg a t\r\n', expect: /^HD\r\nHD c(\d+)\r\nVALUE a 0 1 \1\r\nx\r\nEND\r\nHD t(99|100)\r\n$/ },
]);
