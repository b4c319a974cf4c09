import { formatStatus, sweepStatus } from '../../cluster/status.js';
import { EXIT_NEEDS_RESUME, EXIT_OK } from '../exit-codes.js';

export interface StatusCommandOptions {
  readonly json?: boolean;
}

/** relaxmap status: progress of a sweep (or run) directory; exit 0 when complete, 3 otherwise. */
export function statusCommand(dir: string, opts: StatusCommandOptions, out: NodeJS.WritableStream = process.stdout): number {
  const now = Date.now();
  const st = sweepStatus(dir, now);
  out.write(opts.json ? `${JSON.stringify(st)}\n` : formatStatus(st, now));
  return st.complete ? EXIT_OK : EXIT_NEEDS_RESUME;
}
