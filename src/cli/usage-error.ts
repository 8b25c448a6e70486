/** A mistake on the command line or in its input that the user can fix: printed as one line, exit code 1. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
