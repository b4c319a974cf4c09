import { SpecError, UsageError } from '../spec/errors.js';
import { writeErrorLog } from '../sweep/error-log.js';
import { InterruptedError, NeedsResumeError, OutputWriteError, RunLockedError } from '../sweep/run-errors.js';

/**
 * The exit-code table (docs/exit-codes.md, `relaxmap --help`). Distinct codes let a
 * scheduler's requeue logic act without parsing messages: 75 means "requeue me, I resume",
 * 73 "someone else is writing there", 3 "this directory needs --resume (or --force)".
 * 0/1/2 keep the meaning of interface.md section 3.
 */
export const EXIT_OK = 0;
/** An internal failure (a bug, or an engine failure): one line on the terminal, details in DIR/.relaxmap/error.log where there is one. */
export const EXIT_FAILURE = 1;
/** Bad input: the spec, an argument, or a file named on the command line. The message names the field. */
export const EXIT_BAD_INPUT = 2;
/**
 * The output directory holds work that needs a decision: an interrupted run (use --resume,
 * or --force to start over), or, for merge and status, shards that are not complete yet.
 */
export const EXIT_NEEDS_RESUME = 3;
/** The output directory is held by a live run (its lock is fresh): nothing was touched. EX_CANTCREAT. */
export const EXIT_LOCKED = 73;
/** The operating system refused to write the outputs (no space, read-only, I/O error). EX_IOERR. */
export const EXIT_IO = 74;
/** Interrupted by a signal: finished chunks are checkpointed, rerun with --resume. EX_TEMPFAIL. */
export const EXIT_INTERRUPTED = 75;

export const EXIT_CODE_TABLE: ReadonlyArray<readonly [number, string]> = [
  [EXIT_OK, 'done (also --resume of a finished run: nothing to do)'],
  [EXIT_FAILURE, 'internal failure (details in DIR/.relaxmap/error.log)'],
  [EXIT_BAD_INPUT, 'bad input: spec, argument or input file (the message names the field)'],
  [EXIT_NEEDS_RESUME, 'the directory holds an interrupted run or incomplete shards: --resume (or --force)'],
  [EXIT_LOCKED, 'the directory is held by a live run'],
  [EXIT_IO, 'the system refused a write (no space, read-only file system, I/O error)'],
  [EXIT_INTERRUPTED, 'interrupted by a signal: finished chunks kept, rerun with --resume'],
];

/** The exit code of an error (the table above). */
export function exitCodeOf(e: unknown): number {
  if (e instanceof SpecError || e instanceof UsageError) return EXIT_BAD_INPUT;
  if (e instanceof NeedsResumeError) return EXIT_NEEDS_RESUME;
  if (e instanceof RunLockedError) return EXIT_LOCKED;
  if (e instanceof OutputWriteError) return EXIT_IO;
  if (e instanceof InterruptedError) return EXIT_INTERRUPTED;
  return EXIT_FAILURE;
}

/**
 * Map an error to its exit code and print it without a stack: one message for the known
 * kinds; for an internal failure one line, with the details (stack, what libraries printed)
 * in DIR/.relaxmap/error.log (or a file in the temporary directory), RELAXMAP_DEBUG=1 prints them too.
 */
export function reportError(e: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const code = exitCodeOf(e);
  if (code !== EXIT_FAILURE) {
    stderr.write(`relaxmap: ${(e as Error).message}\n`);
    return code;
  }
  const msg = e instanceof Error ? e.message : String(e);
  const first = (msg.split('\n')[0] ?? '').slice(0, 300);
  const log = writeErrorLog(e);
  stderr.write(`relaxmap: internal error: ${first || (e instanceof Error ? e.name : 'unknown')}${log ? ` (details in ${log})` : ''}\n`);
  if (process.env.RELAXMAP_DEBUG && e instanceof Error && e.stack) stderr.write(`${e.stack}\n`);
  return EXIT_FAILURE;
}
