/**
 * The ways a run stops short that are not bad input (SpecError / UsageError, exit 2) nor a
 * bug (exit 1). Each maps to one exit code of src/cli/exit-codes.ts, so a scheduler can act
 * on the code alone.
 */

/** The output directory is held by a live run (exit 73): nothing was touched. */
export class RunLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunLockedError';
  }
}

/** The directory holds work that needs a decision: --resume, --force, or more shards (exit 3). */
export class NeedsResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NeedsResumeError';
  }
}

/** Stopped by a signal; the finished chunks are checkpointed (exit 75). */
export class InterruptedError extends Error {
  readonly signal: string;
  readonly kept: number;
  readonly total: number;
  constructor(signal: string, kept: number, total: number, action?: string) {
    super(action ? `interrupted by ${signal}: ${action}` : `interrupted by ${signal}: ${kept}/${total} chunks kept: rerun with --resume`);
    this.name = 'InterruptedError';
    this.signal = signal;
    this.kept = kept;
    this.total = total;
  }
}

/** The operating system refused a write: no space, read-only file system, permissions, I/O error (exit 74). */
export class OutputWriteError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(message: string, code: string, path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutputWriteError';
    this.code = code;
    this.path = path;
  }
}
