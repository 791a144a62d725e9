import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * One line per event on stderr. Warnings and errors always; info with -v; debug with -vv.
 * The level can change at run time (memcached's `verbosity` command).
 */
export class Logger {
  /** Lines go to `file` when given (--log-file), else to stderr. */
  constructor(public verbosity: number, readonly file: LogFile | null = null) {
    this.write = file ? file.write : (l) => process.stderr.write(l);
  }

  private readonly write: (line: string) => void;

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

/**
 * `--log-file`: log lines appended to a file, one synchronous write each (events are rare).
 * reopen() (on SIGHUP) starts a new file under the same name once logrotate moved the old one.
 */
export class LogFile {
  private fd: number;
  private readonly followers: ((fd: number) => void)[] = [];

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  readonly write = (line: string): void => {
    try {
      writeSync(this.fd, line);
    } catch {
      // A full disk must not take the cache down: the line is lost.
    }
  };

  /** Calls `f` with the file's descriptor now and after every reopen (the addon logs there too). */
  follow(f: (fd: number) => void): void {
    this.followers.push(f);
    f(this.fd);
  }

  reopen(): void {
    const next = openSync(this.path, 'a');
    for (const f of this.followers) f(next);
    closeSync(this.fd);
    this.fd = next;
  }
}
