import { closeSync, createWriteStream, fsyncSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';

/** The output of a command could not be written: a one-line message naming it, exit code 1. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
}

const REASONS: Record<string, string> = {
  EISDIR: 'it is a directory; name a file in it',
  ENOENT: 'its directory does not exist',
  ENOTDIR: 'a part of its path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EFBIG: 'the file is too large for its file system',
  EIO: 'an input/output error',
};

const outputError = (target: string, error: unknown): OutputError => {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new OutputError(`cannot write ${target}: ${REASONS[code] ?? (error as Error).message} (${code})`);
};

/**
 * Where a command writes its lines: a file (created or truncated, synced to
 * disk when done) or stdout. A file that cannot be written is reported as
 * such, naming it. A reader that goes away (`export | head`) is not an
 * error: `write` answers false and the command stops quietly.
 */
export class LineOutput {
  private failure: Error | null = null;
  private gone = false;

  private constructor(
    private readonly stream: Writable,
    private readonly target: string,
    private readonly fd: number | null,
  ) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (fd === null && error.code === 'EPIPE') this.gone = true;
      else this.failure ??= error;
    });
  }

  /** Open FILE for writing now, so that a bad path is reported before any work is done; stdout without one. */
  static open(file: string | undefined): LineOutput {
    if (file === undefined) return new LineOutput(process.stdout, 'stdout', null);
    let fd: number;
    try {
      fd = openSync(file, 'w', 0o600);
    } catch (error) {
      throw outputError(file, error);
    }
    return new LineOutput(createWriteStream('', { fd, autoClose: false }), file, fd);
  }

  /** True when writing to a file (progress and a summary on stderr make sense then). */
  get toFile(): boolean {
    return this.fd !== null;
  }

  /** Write one chunk, waiting while the reader is behind; false once the reader has gone. */
  async write(text: string): Promise<boolean> {
    this.check();
    if (this.gone) return false;
    if (!this.stream.write(text)) await this.settle('drain');
    this.check();
    return !this.gone;
  }

  /** Flush and, for a file, sync it to disk and close it; throws if any of it failed. */
  async close(): Promise<void> {
    if (this.fd === null) return this.check();
    const fd = this.fd;
    try {
      if (!this.failure) {
        this.stream.end();
        await this.settle('finish');
      }
      this.check();
      try {
        fsyncSync(fd);
      } catch (error) {
        // A pipe or a device (--output /dev/stdout) cannot be synced, and need not be.
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw outputError(this.target, error);
      }
    } finally {
      closeSync(fd);
    }
  }

  private check(): void {
    if (this.failure) throw outputError(this.target, this.failure);
  }

  /** Wait for the event, or for an error or the stream closing (then `check` reports why). */
  private settle(event: 'drain' | 'finish'): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off(event, done).off('error', done).off('close', done);
        resolve();
      };
      this.stream.on(event, done).on('error', done).on('close', done);
    });
  }
}
