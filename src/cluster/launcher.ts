/**
 * The relaxmap a batch job calls: this very installation, by absolute path (the node that
 * runs this process and the package's bin/relaxmap.js), so that a job on a compute node runs
 * the same version as the command that wrote its script, whatever PATH the job gets.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../spec/errors.js';

/** The directory holding relaxmap's package.json (src/ and dist/src/ both sit below it). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'relaxmap') return dir;
      } catch {
        // not ours: keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`relaxmap's package.json not found above ${from}`);
    dir = up;
  }
}

/**
 * [node, .../bin/relaxmap.js]. The launcher runs the compiled CLI (dist/, built by npm's
 * prepare script); without it a job would fail on the compute node, so refuse here.
 */
export function relaxmapCommand(): string[] {
  const root = realpathSync(packageRoot());
  const bin = join(root, 'bin', 'relaxmap.js');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: reinstall relaxmap`);
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    throw new UsageError(`the compiled CLI that batch jobs run (${join(root, 'dist')}) is missing: run \`npm run build\` in ${root} (npm ci and npm install do it)`);
  }
  return [realpathSync(process.execPath), bin];
}
