/**
 * `relaxmap report`: one self-contained report.html per run directory: spec, provenance,
 * interactive surfaces (plotly, inlined), model comparison, trajectories, contributions.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadRunDirectory } from '../plot/run-directory.js';
import { reportHtml } from './html.js';
import { buildPayload, type PayloadOptions } from './payload.js';

export interface ReportOptions extends PayloadOptions {
  /** Output file; default `<dir>/report.html`. */
  readonly out?: string;
}

export interface ReportResult {
  readonly file: string;
  readonly bytes: number;
  /** Decimation and skipped files. */
  readonly notes: readonly string[];
}

export async function writeReport(dir: string, options: ReportOptions = {}): Promise<ReportResult> {
  const run = await loadRunDirectory(dir);
  const payload = buildPayload(run, options);
  const html = reportHtml({ payload, specText: run.specText, run: run.run, sourceDir: run.dir, generated: new Date().toISOString() });
  const file = resolve(options.out ?? join(run.dir, 'report.html'));
  await fsp.mkdir(dirname(file), { recursive: true });
  // Written beside the target and renamed, so a reader never sees half a page.
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  await fsp.writeFile(tmp, html);
  await fsp.rename(tmp, file);
  return { file, bytes: Buffer.byteLength(html), notes: payload.notes };
}

export { buildPayload } from './payload.js';
