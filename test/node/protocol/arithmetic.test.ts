import { protocolSuite } from '../../helpers/cases';

protocolSuite('incr and decr', [
  { name: 'incr and decr', send: 'set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 3\r\nget n\r\n', expect: 'STORED\r\n15\r\n12\r\nVALUE n 0 2\r\n12\r\nEND\r\n' },
  { name: 'shorter result is padded with spaces in place', send: 'set n 0 0 3\r\n100\r\ndecr n 1\r\nget n\r\n', expect: 'STORED\r\n99\r\nVALUE n 0 3\r\n99 \r\nEND\r\n' },
  { name: 'longer result grows the value', send: 'set n 0 0 2\r\n99\r\nincr n 1\r\nget n\r\n', expect: 'STORED\r\n100\r\nVALUE n 0 3\r\n100\r\nEND\r\n' },
  // Numbers of 2^63 and more: memcached refuses them when strchr finds a minus sign before the
  // string's NUL; in item data that search runs into the next item's bytes, so these cases rely
  // on a fresh server (zeroed slab memory) and run before any value with a '-' is stored.
  { name: 'incr wraps at 2^64', send: 'set n 0 0 20\r\n18446744073709551615\r\nincr n 1\r\nget n\r\n', expect: 'STORED\r\n0\r\nVALUE n 0 20\r\n0                   \r\nEND\r\n' },
  { name: 'decr stops at 0', send: 'set n 0 0 1\r\n5\r\ndecr n 1000\r\n', expect: 'STORED\r\n0\r\n' },
  { name: 'incr on missing', send: 'incr nope 1\r\ndecr nope 1\r\n', expect: 'NOT_FOUND\r\nNOT_FOUND\r\n' },
  { name: 'non-numeric values', send: 'set n 0 0 3\r\nabc\r\nincr n 1\r\nset n 0 0 0\r\n\r\nincr n 1\r\nset n 0 0 3\r\n-12\r\ndecr n 1\r\n', expect: 'STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n' },
  { name: 'value above 2^64-1 is non-numeric', send: 'set n 0 0 20\r\n18446744073709551616\r\nincr n 1\r\n', expect: 'STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n' },
  { name: 'leading zeros, plus sign, trailing junk after a space', send: 'set a 0 0 5\r\n00042\r\nincr a 1\r\nset b 0 0 3\r\n+12\r\nincr b 1\r\nset c 0 0 4\r\n5 xy\r\nincr c 1\r\nget a c\r\n', expect: 'STORED\r\n43\r\nSTORED\r\n13\r\nSTORED\r\n6\r\nVALUE a 0 5\r\n43   \r\nVALUE c 0 4\r\n6   \r\nEND\r\n' },
  { name: 'bad deltas', send: 'set n 0 0 1\r\n1\r\nincr n -1\r\nincr n abc\r\nincr n 18446744073709551616\r\nincr n 1a\r\n', expect: 'STORED\r\nCLIENT_ERROR invalid numeric delta argument\r\nCLIENT_ERROR invalid numeric delta argument\r\nCLIENT_ERROR invalid numeric delta argument\r\nCLIENT_ERROR invalid numeric delta argument\r\n' },
  { name: 'a minus anywhere in a huge delta token refuses it (strchr)', send: 'set n 0 0 1\r\n1\r\nincr n 18446744073709551615\t-\r\nincr n 5\t-\r\ndecr n -18446744073709551615\r\n', expect: 'STORED\r\nCLIENT_ERROR invalid numeric delta argument\r\n6\r\n5\r\n' },
  { name: 'odd but valid deltas', send: 'set n 0 0 1\r\n1\r\nincr n +1\r\nincr n -0\r\n', expect: 'STORED\r\n2\r\n2\r\n' },
  { name: 'noreply', send: 'set n 0 0 1\r\n1\r\nincr n 5 noreply\r\ndecr n abc noreply\r\nget n\r\n', expect: 'STORED\r\nVALUE n 0 1\r\n6\r\nEND\r\n' },
  { name: 'token counts', send: 'incr n\r\nincr\r\nincr n 1 2\r\nincr n 1 2 3\r\n', expect: 'ERROR\r\nERROR\r\nNOT_FOUND\r\nERROR\r\n' },
  { name: 'keeps flags, changes cas', send: 'set n 9 0 1\r\n1\r\nincr n 1\r\nget n\r\n', expect: 'STORED\r\n2\r\nVALUE n 9 1\r\n2\r\nEND\r\n' },
  { name: 'over-long key', send: `incr ${'k'.repeat(251)} 1\r\n`, expect: 'CLIENT_ERROR bad command line format\r\n' },
]);
