import { protocolSuite } from '../../helpers/cases';

/**
 * Meta flags newer than the 1.6.18 oracle, which rejects or ignores them: the node follows
 * doc/protocol.txt at memcached 1.6.45, so these cases run against the node only (nodeOnly),
 * their expectations written from that document. What 1.6.18 does with the same bytes is in
 * the other meta tables (E is an invalid flag there, md x too; ms s and N, mg C are ignored).
 */
const DOC = '1.6.45';

protocolSuite('meta flags of newer memcached releases', [
  { nodeOnly: DOC, name: 'ms E sets the CAS', send: 'ms a 1 E12345 c\r\nx\r\ngets a\r\nmg a c\r\n', expect: 'HD c12345\r\nVALUE a 0 1 12345\r\nx\r\nEND\r\nHD c12345\r\n' },
  { nodeOnly: DOC, name: 'a text cas matches an E CAS', send: 'ms a 1 E777\r\nx\r\ncas a 0 0 1 777\r\ny\r\nget a\r\n', expect: 'HD\r\nSTORED\r\nVALUE a 0 1\r\ny\r\nEND\r\n' },
  { nodeOnly: DOC, name: 'ms C compares against an E CAS', send: 'ms a 1 E50\r\nx\r\nms a 1 C49\r\ny\r\nms a 1 C50 E51 c\r\nz\r\n', expect: 'HD\r\nEX\r\nHD c51\r\n' },
  { nodeOnly: DOC, name: 'E is not used when the item is not modified', send: 'ms a 1 E5\r\nx\r\nms a 1 ME E9\r\ny\r\nmg a c\r\n', expect: 'HD\r\nNS\r\nHD c5\r\n' },
  { nodeOnly: DOC, name: 'ma E sets the CAS of the new value', send: 'set n 0 0 1\r\n1\r\nma n E99 c v\r\ngets n\r\n', expect: 'STORED\r\nVA 1 c99\r\n2\r\nVALUE n 0 1 99\r\n2\r\nEND\r\n' },
  { nodeOnly: DOC, name: 'ma N E creates with the CAS', send: 'ma n N0 J5 E42 c\r\n', expect: 'HD c42\r\n' },
  { nodeOnly: DOC, name: 'md I E marks stale with the CAS', send: 'set a 0 0 1\r\nx\r\nmd a I E55\r\nmg a c\r\n', expect: 'STORED\r\nHD\r\nHD c55 X W\r\n' },
  { nodeOnly: DOC, name: 'mg N E vivifies with the CAS', send: 'mg a N30 E66 c\r\n', expect: 'HD c66 W\r\n' },
  { nodeOnly: DOC, name: 'md x empties the value and keeps the item', send: 'set a 0 0 3\r\nabc\r\nmd a x\r\nmg a v s\r\n', expect: 'STORED\r\nHD\r\nVA 0 s0\r\n\r\n' },
  { nodeOnly: DOC, name: 'md x on a miss is NF', send: 'md a x\r\n', expect: 'NF\r\n' },
  { nodeOnly: DOC, name: 'md x I leaves a stale empty tombstone', send: 'set a 0 0 3\r\nabc\r\nmd a x I\r\nmg a v\r\n', expect: 'STORED\r\nHD\r\nVA 0 X W\r\n\r\n' },
  { nodeOnly: DOC, name: 'ms s returns the stored size', send: 'ms a 3 s\r\nabc\r\n', expect: 'HD s3\r\n' },
  { nodeOnly: DOC, name: 'ms s after an append is the new size', send: 'set a 0 0 2\r\nab\r\nms a 3 MA s\r\ncde\r\n', expect: 'STORED\r\nHD s5\r\n' },
  { nodeOnly: DOC, name: 'ms N in append mode vivifies a miss with the data and N\'s TTL', send: 'ms a 2 MA N100 T5\r\nxy\r\nmg a v t\r\n', expect: /^HD\r\nVA 2 t(99|100)\r\nxy\r\n$/ },
  { nodeOnly: DOC, name: 'ms N in prepend mode vivifies a miss', send: 'ms a 2 MP N0\r\nxy\r\nget a\r\n', expect: 'HD\r\nVALUE a 0 2\r\nxy\r\nEND\r\n' },
  { nodeOnly: DOC, name: 'ms N in append mode appends to a hit', send: 'set a 0 0 1\r\nw\r\nms a 2 MA N100\r\nxy\r\nmg a v t\r\n', expect: 'STORED\r\nHD\r\nVA 3 t-1\r\nwxy\r\n' },
  { nodeOnly: DOC, name: 'mg C with the matching CAS drops the value: HD', send: 'ms a 1 E5\r\nx\r\nmg a C5 v s\r\n', expect: 'HD\r\nHD s1\r\n' },
  { nodeOnly: DOC, name: 'mg C with another CAS returns the value', send: 'ms a 1 E5\r\nx\r\nmg a C6 v\r\n', expect: 'HD\r\nVA 1\r\nx\r\n' },
  { nodeOnly: DOC, name: 'mg C still applies T', send: 'ms a 1 E5\r\nx\r\nmg a C5 v T100\r\nmg a t\r\n', expect: /^HD\r\nHD\r\nHD t(99|100)\r\n$/ },
]);
