/**
 * Loading tfjs: the fallback chain from a preferred backend with every failure recorded,
 * nothing printed, native modules that throw or abort confined to a probe process, a GPU
 * adapter whose device fails degrading to wasm, and tfjs kept out of the engine until a
 * tfjs backend is asked for. (Own file: the fake GPU leaves navigator.gpu behind.)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { createJob } from '../../src/engine/create-job.js';
import type { Job } from '../../src/engine/job.js';
import { loadTfjs } from '../../src/engine/tfjs/load-tfjs.js';
import { createTfjsBackend } from '../../src/engine/tfjs/tfjs-backend.js';
import { ROOT } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'relaxmap-tfjs-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function specJob(file: string): Job {
  const path = join(ROOT, 'sweeps', file);
  return createJob({ text: readFileSync(path, 'utf8'), source: path, overrides: [] });
}

/** Captures console output for the duration of `body`. */
async function silent<T>(body: () => Promise<T>): Promise<{ value: T; said: string[] }> {
  const saved = { warn: console.warn, log: console.log, error: console.error, info: console.info };
  const said: string[] = [];
  const grab = (...a: unknown[]): void => {
    said.push(a.map(String).join(' '));
  };
  Object.assign(console, { warn: grab, log: grab, error: grab, info: grab });
  try {
    return { value: await body(), said };
  } finally {
    Object.assign(console, saved);
  }
}

describe('loading tfjs', () => {
  const require = createRequire(import.meta.url);
  it("falls back from 'tensorflow' with the reason recorded, without printing", async () => {
    const { value: loaded, said } = await silent(async () => {
      const l = await loadTfjs('tensorflow');
      const tb = await createTfjsBackend(specJob('paper-pair.yaml'), { prefer: 'tensorflow' });
      expect(tb.name).toBe(`tfjs-${l.backend}`);
      expect(tb.description).toContain(l.reason);
      // the cpu backend's "install tfjs-node" banner would come with the first tensor
      await tb.evaluate({ id: 0, variant: 0, start: 0, count: 4 });
      return l;
    });
    expect(said).toEqual([]);
    if (loaded.backend !== 'tensorflow') {
      expect(loaded.tried[0]?.backend).toBe('tensorflow');
      expect(loaded.tried[0]?.error).toMatch(/tfjs-node/);
      expect(['webgpu', 'wasm', 'cpu']).toContain(loaded.backend);
      expect(loaded.reason).toContain('passed over tensorflow');
    }
    const cpu = await silent(() => loadTfjs('cpu'));
    expect(cpu.value).toMatchObject({ backend: 'cpu', tried: [] });
    expect(cpu.said).toEqual([]);
  });

  it('survives native modules that throw or abort on load, recording each', async () => {
    // a tfjs-node whose addon is missing (what a skipped install script leaves) and a
    // tfjs-node-gpu whose native code aborts the process: both only ever run in the probe
    const root = join(dir, 'fake');
    const pkg = (name: string, body: string): void => {
      const d = join(root, 'node_modules', '@tensorflow', name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'package.json'), JSON.stringify({ name: `@tensorflow/${name}`, version: '4.22.0', main: 'index.js' }));
      writeFileSync(join(d, 'index.js'), body);
    };
    pkg('tfjs-node', "throw new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: lib/napi-v8/tfjs_binding.node');\n");
    pkg('tfjs-node-gpu', 'process.abort();\n');
    const { value: loaded, said } = await silent(() => loadTfjs('tensorflow', { resolveFrom: join(root, 'index.js') }));
    expect(said).toEqual([]);
    const tf = loaded.tried.find((t) => t.backend === 'tensorflow');
    expect(tf?.error).toMatch(/tfjs-node-gpu: probe killed by SIGABRT/);
    expect(tf?.error).toMatch(/tfjs-node: probe exit 1: .*native addon module/);
    const gpu = loaded.tried.find((t) => t.backend === 'webgpu');
    expect(gpu?.error).toMatch(/webgpu.*not installed/);
    expect(['wasm', 'cpu']).toContain(loaded.backend);
  });

  it('degrades from a GPU adapter whose device cannot be created, recording the reason', async () => {
    // Dawn stand-in: an adapter exists (as on a GPU machine) but requestDevice fails; the real
    // tfjs webgpu backend registers against it and its initialisation error is the reason
    const root = join(dir, 'gpu');
    const web = join(root, 'node_modules', 'webgpu');
    mkdirSync(web, { recursive: true });
    writeFileSync(join(web, 'package.json'), JSON.stringify({ name: 'webgpu', version: '0.6.2', type: 'module', main: 'index.js' }));
    writeFileSync(
      join(web, 'index.js'),
      `const adapter = {
  features: new Set(),
  limits: { maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30, maxComputeWorkgroupSizeX: 256, maxComputeInvocationsPerWorkgroup: 256 },
  info: { vendor: 'relaxmap-test', architecture: 'none', description: 'stand-in adapter' },
  async requestDevice() { throw new Error('stand-in adapter: no device'); },
};
export const globals = {};
export function create() { return { async requestAdapter() { return adapter; } }; }
`,
    );
    const real = dirname(require.resolve('@tensorflow/tfjs-backend-webgpu/package.json'));
    mkdirSync(join(root, 'node_modules', '@tensorflow'), { recursive: true });
    symlinkSync(real, join(root, 'node_modules', '@tensorflow', 'tfjs-backend-webgpu'), 'dir');
    const { value: loaded, said } = await silent(() => loadTfjs('webgpu', { resolveFrom: join(root, 'index.js') }));
    expect(said).toEqual([]);
    expect(loaded.tried).toHaveLength(1);
    expect(loaded.tried[0]?.backend).toBe('webgpu');
    expect(loaded.tried[0]?.error).toMatch(/stand-in adapter: no device/);
    expect(loaded.backend).toBe('wasm');
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeDefined();
  });

  it('keeps tfjs out of the engine until a tfjs backend is asked for', () => {
    const code = `
      const { createRequire } = await import('node:module');
      const req = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
      const loaded = () => Object.keys(req.cache).filter((k) => k.includes('@tensorflow')).length;
      await import(${JSON.stringify(join(ROOT, 'src/engine/create-job.ts'))});
      await import(${JSON.stringify(join(ROOT, 'src/engine/inline-backend.ts'))});
      await import(${JSON.stringify(join(ROOT, 'src/engine/worker-backend.ts'))});
      const m = await import(${JSON.stringify(join(ROOT, 'src/engine/tfjs/tfjs-backend.ts'))});
      const before = loaded();
      await (await import(${JSON.stringify(join(ROOT, 'src/engine/tfjs/load-tfjs.ts'))})).loadTfjs('cpu');
      console.log(JSON.stringify({ before, after: loaded(), api: typeof m.createTfjsBackend }));
    `;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { before: number; after: number; api: string };
    expect(out).toMatchObject({ before: 0, api: 'function' });
    expect(out.after).toBeGreaterThan(0);
  });
});
