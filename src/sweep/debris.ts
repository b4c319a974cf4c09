/**
 * The one cleanup rule: relaxmap's temporary files carry the run's token (src/io/temp-files.ts),
 * so a run that holds a directory's lock can remove every temporary file of another token:
 * the lock guarantees that no other live run writes there, so those are the debris of dead
 * runs. Only relaxmap's own names are touched, never a user's files in --out.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_TOKEN, tempTokenOf } from '../io/temp-files.js';

/** The files a run writes into --out. */
export const OUTPUT_NAMES: ReadonlySet<string> = new Set(['surfaces.nc', 'trajectories.nc', 'contributions.nc', 'points.csv', 'run.json', 'spec.yaml', 'shard.json']);
/** The files of DIR/.relaxmap besides the checkpoints. */
export const STATE_NAMES: ReadonlySet<string> = new Set(['lock', 'plan.json', 'progress.json', 'error.log']);
export const CHUNK_NAME = /^chunk-\d{6,}\.f64$/;

function listing(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Remove temporary files of other runs (and lock files set aside during a takeover). Returns what was removed. */
export function removeDebris(outDir: string, keepToken: string = RUN_TOKEN): string[] {
  const removed: string[] = [];
  const sweep = (dir: string, isOurs: (name: string) => boolean, extra?: RegExp): void => {
    for (const f of listing(dir)) {
      const token = tempTokenOf(f, isOurs);
      if ((token !== undefined && token !== keepToken) || (extra?.test(f) && !f.includes(keepToken))) {
        rmSync(join(dir, f), { force: true });
        removed.push(join(dir, f));
      }
    }
  };
  sweep(outDir, (n) => OUTPUT_NAMES.has(n));
  const state = join(outDir, '.relaxmap');
  sweep(state, (n) => STATE_NAMES.has(n), /^lock\..+\.stale$/);
  for (const chunks of [join(state, 'chunks'), join(outDir, 'chunks')]) sweep(chunks, (n) => CHUNK_NAME.test(n));
  return removed;
}

/** Remove relaxmap's chunk files (and their temporaries) from a directory; the directory too once it is empty. */
export function removeChunkFiles(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of listing(dir)) {
    if (CHUNK_NAME.test(f) || tempTokenOf(f, (n) => CHUNK_NAME.test(n)) !== undefined) rmSync(join(dir, f), { force: true });
  }
  try {
    rmdirSync(dir);
  } catch {
    // not empty: the user's own files stay
  }
}
