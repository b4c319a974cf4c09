import { SpecError, UsageError } from '../spec/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

/** Map an error to the exit code of interface.md section 3 and print it without a stack. */
export function reportError(e: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (e instanceof SpecError) {
    stderr.write(`relaxmap: ${e.message}\n`);
    return EXIT_BAD_INPUT;
  }
  if (e instanceof UsageError) {
    stderr.write(`relaxmap: ${e.message}\n`);
    return EXIT_BAD_INPUT;
  }
  const msg = e instanceof Error ? e.message : String(e);
  stderr.write(`relaxmap: error: ${msg}\n`);
  if (process.env.RELAXMAP_DEBUG && e instanceof Error && e.stack) stderr.write(`${e.stack}\n`);
  return EXIT_FAILURE;
}
