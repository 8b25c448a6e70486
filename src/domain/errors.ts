/**
 * Expected failures. The message is written for the model that called the tool:
 * it says what went wrong and what to do next. Internal detail (SQL, stack,
 * paths) never goes into it; that belongs in the log.
 */
export type MemoryErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'too_large'
  | 'conflict'
  | 'internal';

export class MemoryError extends Error {
  readonly code: MemoryErrorCode;

  constructor(code: MemoryErrorCode, message: string) {
    super(message);
    this.name = 'MemoryError';
    this.code = code;
  }
}

export const notFound = (what: string, id: string, hint: string): MemoryError =>
  new MemoryError('not_found', `${what} ${id} not found; ${hint}`);
