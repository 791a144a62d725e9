import { protocolSuite } from '../../helpers/cases';

protocolSuite('other commands and bad lines', [
  { name: 'version', send: 'version\r\nversion x\r\n', expect: /^VERSION \S+\r\nVERSION \S+\r\n$/ },
  { name: 'verbosity', send: 'verbosity 1\r\nverbosity 0 noreply\r\nverbosity\r\nverbosity x\r\nverbosity 1 2\r\nverbosity noreply\r\n', expect: 'OK\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nOK\r\n' },
  { name: 'unknown commands', send: 'foo\r\nSET a 0 0 1\r\nx\r\ndog HTTP/1.1\r\n', expect: 'ERROR\r\nERROR\r\nERROR\r\nERROR\r\n' },
  { name: 'empty and blank lines', send: '\r\n\n \r\nx\r\n', expect: 'ERROR\r\nERROR\r\nERROR\r\nERROR\r\n' },
  { name: 'mn', send: 'mn\r\n', expect: 'MN\r\n' },
  { name: 'shutdown is refused unless enabled', send: 'shutdown\r\nshutdown graceful\r\n', expect: 'ERROR: shutdown not enabled\r\nERROR: shutdown not enabled\r\n' },
  { name: 'quit closes after earlier replies', send: 'set a 0 0 1\r\nx\r\nget a\r\nquit\r\nget a\r\n', expect: 'STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n', closes: true },
  { name: 'an HTTP request closes the connection', send: 'GET / HTTP/1.1\r\n', expect: '', closes: true },
  { name: 'HTTP drops replies not yet sent, keeps those a get sent', send: 'set a 0 0 1\r\nx\r\nget a\r\nfoo\r\nGET / HTTP/1.1\r\n', expect: 'STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n', closes: true },
  { name: 'the 21st command of a read is a transmit point', send: 'incr zz 1\r\n'.repeat(22) + 'GET / HTTP/1.1\r\n', expect: 'NOT_FOUND\r\n'.repeat(21), closes: true },
  { name: 'flush_all forms', send: 'set a 0 0 1\r\nx\r\nflush_all\r\nget a\r\nflush_all 0\r\nflush_all noreply\r\nflush_all 0 noreply\r\nflush_all -1\r\nflush_all x\r\nflush_all noreply 0\r\nflush_all 1 2 3\r\n', expect: 'STORED\r\nOK\r\nEND\r\nOK\r\nOK\r\nCLIENT_ERROR invalid exptime argument\r\nCLIENT_ERROR invalid exptime argument\r\nERROR\r\n' },
  { name: 'stats reset', send: 'stats reset\r\n', expect: 'RESET\r\n' },
  { name: 'stats detail usage', send: 'stats detail\r\nstats detail on\r\nstats detail off\r\n', expect: 'CLIENT_ERROR usage: stats detail on|off|dump\r\nOK\r\nOK\r\n' },
  { name: 'stats sizes', send: 'stats sizes\r\n', expect: 'STAT sizes_status disabled\r\nEND\r\n' },
  { name: 'unknown stats group', send: 'stats nonsense\r\n', expect: 'ERROR\r\n' },
]);
