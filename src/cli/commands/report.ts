import { writeReport } from '../../report/index.js';

export interface ReportCommandOptions {
  /** Output file (default DIR/report.html). */
  readonly out?: string;
}

/** `relaxmap report DIR`: writes report.html and prints its path; UsageError (exit 2) for a bad directory. */
export async function reportCommand(
  dir: string,
  opts: ReportCommandOptions = {},
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<void> {
  const result = await writeReport(dir, opts.out !== undefined ? { out: opts.out } : {});
  for (const n of result.notes) err.write(`relaxmap: note: ${n}\n`);
  out.write(`${result.file} (${(result.bytes / 1e6).toFixed(1)} MB)\n`);
}
