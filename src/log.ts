/**
 * One line per event on stderr. Warnings and errors always; info with -v; debug with -vv.
 * The level can change at run time (memcached's `verbosity` command).
 */
export class Logger {
  constructor(public verbosity: number, private readonly write: (line: string) => void = (l) => process.stderr.write(l)) {}

  error(message: string): void {
    this.emit('error', message);
  }

  warn(message: string): void {
    this.emit('warn', message);
  }

  info(message: string): void {
    if (this.verbosity >= 1) this.emit('info', message);
  }

  debug(message: string): void {
    if (this.verbosity >= 2) this.emit('debug', message);
  }

  private emit(level: string, message: string): void {
    this.write(`${new Date().toISOString()} [${process.pid}] ${level}: ${message}\n`);
  }
}
