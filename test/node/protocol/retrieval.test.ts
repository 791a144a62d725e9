import { protocolSuite } from '../../helpers/cases';

const K251 = 'k'.repeat(251);
const many = Array.from({ length: 3000 }, (_, i) => `key${i}`);

protocolSuite('retrieval commands', [
  { name: 'get miss', send: 'get nope\r\n', expect: 'END\r\n' },
  { name: 'get without a key', send: 'get\r\ngets\r\n', expect: 'ERROR\r\nERROR\r\n' },
  { name: 'multi-get skips misses, keeps order, repeats', send: 'set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nget b x a b\r\n', expect: 'STORED\r\nSTORED\r\nVALUE b 0 1\r\n2\r\nVALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n' },
  { name: 'extra spaces between keys', send: 'set a 0 0 1\r\n1\r\nget   a    a  \r\n', expect: 'STORED\r\nVALUE a 0 1\r\n1\r\nVALUE a 0 1\r\n1\r\nEND\r\n' },
  { name: 'gets shows a cas unique', send: 'set a 3 0 1\r\n1\r\ngets a\r\n', expect: /^STORED\r\nVALUE a 3 1 [1-9][0-9]*\r\n1\r\nEND\r\n$/ },
  { name: 'over-long key drops the whole unsent batch', send: `set a 0 0 1\r\nx\r\nget a ${K251}\r\n`, expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: 'a get is a transmit point: earlier replies survive', send: `set a 0 0 1\r\nx\r\nget a\r\nset b 0 0 1\r\ny\r\nget a b ${K251}\r\n`, expect: 'STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\nCLIENT_ERROR bad command line format\r\n' },
  { name: 'thousands of keys on one line', send: 'set key7 0 0 1\r\n7\r\nset key2999 0 0 1\r\n9\r\n' + `get ${many.join(' ')}\r\n`, expect: 'STORED\r\nSTORED\r\nVALUE key7 0 1\r\n7\r\nVALUE key2999 0 1\r\n9\r\nEND\r\n' },
  { name: 'gat returns and touches', send: 'set a 0 0 1\r\nx\r\ngat 0 a\r\ngat -1 a\r\nget a\r\n', expect: 'STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\nVALUE a 0 1\r\nx\r\nEND\r\nEND\r\n' },
  { name: 'gats shows cas', send: 'set a 0 0 1\r\nx\r\ngats 100 a\r\n', expect: /^STORED\r\nVALUE a 0 1 [0-9]+\r\nx\r\nEND\r\n$/ },
  { name: 'gat with a bad exptime', send: 'gat abc a\r\n', expect: 'CLIENT_ERROR invalid exptime argument\r\n' },
  { name: 'gat without keys', send: 'gat 10\r\ngat\r\n', expect: 'END\r\nERROR\r\n' },
  { name: 'NUL ends the line for the parser', send: 'set a 0 0 1\r\nx\r\nget a\x00b\r\n', expect: 'STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n' },
  { name: 'a tab is part of a key', send: 'set a 0 0 1\r\nx\r\nget a\tb\r\n', expect: 'STORED\r\nEND\r\n' },
]);
