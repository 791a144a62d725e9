/** A command-line mistake: reported as one line on stderr with exit status 64 (EX_USAGE), never a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
