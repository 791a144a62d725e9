import { protocolSuite } from '../../helpers/cases';

const USAGE = 'CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n';

protocolSuite('delete and touch', [
  { name: 'delete hit and miss', send: 'set a 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\nget a\r\n', expect: 'STORED\r\nDELETED\r\nNOT_FOUND\r\nEND\r\n' },
  { name: 'delete <key> 0 is allowed', send: 'set a 0 0 1\r\nx\r\ndelete a 0\r\n', expect: 'STORED\r\nDELETED\r\n' },
  { name: 'delete with a hold time is refused', send: 'delete a 1\r\ndelete a x y\r\n', expect: USAGE + USAGE },
  { name: 'delete noreply forms', send: 'set a 0 0 1\r\nx\r\nset b 0 0 1\r\nx\r\ndelete a noreply\r\ndelete b 0 noreply\r\nget a b\r\n', expect: 'STORED\r\nSTORED\r\nEND\r\n' },
  { name: 'a lone "noreply" after delete is the key, answered', send: 'set noreply 0 0 1\r\nx\r\ndelete noreply\r\nget noreply\r\ndelete noreply\r\ndelete noreply noreply\r\n', expect: 'STORED\r\nDELETED\r\nEND\r\nNOT_FOUND\r\n' },
  { name: 'delete token counts', send: 'delete\r\ndelete a 0 noreply x\r\n', expect: 'ERROR\r\nERROR\r\n' },
  { name: 'delete over-long key', send: `delete ${'k'.repeat(251)}\r\n`, expect: 'CLIENT_ERROR bad command line format\r\n' },
  { name: 'touch hit and miss', send: 'set a 0 0 1\r\nx\r\ntouch a 100\r\ntouch b 100\r\n', expect: 'STORED\r\nTOUCHED\r\nNOT_FOUND\r\n' },
  { name: 'touch into the past expires', send: 'set a 0 0 1\r\nx\r\ntouch a -1\r\nget a\r\n', expect: 'STORED\r\nTOUCHED\r\nEND\r\n' },
  { name: 'touch with a bad exptime', send: 'touch a x\r\n', expect: 'CLIENT_ERROR invalid exptime argument\r\n' },
  { name: 'touch token counts and noreply', send: 'touch a\r\nset a 0 0 1\r\nx\r\ntouch a 10 noreply\r\ntouch a 10 x\r\n', expect: 'ERROR\r\nSTORED\r\nTOUCHED\r\n' },
]);
