/** A node cannot start (port taken, unknown user...): one line on stderr and exit status 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
