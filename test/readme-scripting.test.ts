/**
 * The README's Scripting example is run as written (with `relaxmap` resolved to this
 * checkout's source) and must print what the README says it prints: a batch script that
 * sweeps in a loop and reads results without a YAML file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = README.slice(README.indexOf('## Scripting'));
const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)];

describe('README: Scripting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-readme-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the example and prints what the README shows', async () => {
    const code = blocks.find((b) => b[1] === 'ts')?.[2];
    const printed = blocks.find((b, i) => i > 0 && b[1] === '')?.[2];
    expect(code).toBeDefined();
    expect(printed).toBeDefined();
    const script = join(dir, 'scan.mts');
    writeFileSync(script, (code as string).replace("from 'relaxmap'", `from ${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'index.ts')).href)}`));
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, script], { cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const status = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(err).toBe('');
    expect(status).toBe(0);
    expect(out.trim()).toBe((printed as string).trim());
  }, 120_000);
});
