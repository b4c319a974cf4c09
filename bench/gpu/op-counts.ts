/**
 * Device traffic of the float32 backend on WebGPU, before (tfjs tensor operations,
 * tensor-path.ts) and after (the fused WGSL kernel): kernel dispatches, readbacks and bytes
 * per chunk, counted by the backend itself (run.json's backend.stats). Structure only: on
 * SwiftShader the times mean nothing.
 *
 *   XDG_RUNTIME_DIR=/tmp VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     LD_LIBRARY_PATH=/usr/lib/chromium npx tsx bench/gpu/op-counts.ts
 */
import { readFileSync } from 'node:fs';
import { createJob } from '../../src/engine/create-job.js';
import type { Job } from '../../src/engine/job.js';
import { createTfjsBackend } from '../../src/engine/tfjs/tfjs-backend.js';

const job = (file: string, edit: (t: string) => string = (t) => t): Job => createJob({ text: edit(readFileSync(`sweeps/${file}`, 'utf8')), source: file, overrides: [] });
const cases: Array<{ label: string; job: Job; count: number }> = [
  { label: 'bench-pair-map, r = 4, 128 uniform times, chunk of 4096', job: job('bench-pair-map.yaml'), count: 4096 },
  { label: 'paper-pair, r = 4, 9 non-uniform times, 48 points', job: job('paper-pair.yaml', (t) => t.replace(/^time: .*$/m, 'time: { values: [0, 0.1, 0.4, 1, 2.5, 7, 20, 33, 60] }')), count: 48 },
  { label: 'hhc-singlet, r = 12, 25 log times, 256 points', job: job('hhc-singlet.yaml'), count: 256 },
];
const rows: string[] = [];
for (const c of cases) {
  for (const kernel of ['tensor', 'fused'] as const) {
    const tb = await createTfjsBackend(c.job, { prefer: 'webgpu', kernel, load: { strict: true }, finishers: 0 });
    // a first chunk compiles the pipelines and uploads the per-variant tables
    await tb.evaluate({ id: 0, variant: 0, start: 0, count: c.count });
    const a = tb.stats().device;
    await tb.evaluate({ id: 1, variant: 0, start: 0, count: c.count });
    const b = tb.stats().device;
    if (!a || !b) throw new Error('no device stats');
    const d = (k: 'device_dispatches' | 'device_readbacks' | 'device_upload_bytes' | 'device_readback_bytes'): number => b[k] - a[k];
    rows.push(
      `| ${c.label} | ${kernel === 'tensor' ? 'tfjs tensor ops (before)' : 'fused WGSL (after)'} | ${d('device_dispatches')} | ${d('device_readbacks')} | ${(d('device_upload_bytes') / 1024).toFixed(1)} KiB | ${(d('device_readback_bytes') / 1024).toFixed(1)} KiB | ${(a.device_upload_bytes / 1024).toFixed(1)} KiB |`,
    );
    await tb.close();
  }
}
console.log('| case | kernel | dispatches / chunk | readbacks / chunk | uploaded / chunk | read back / chunk | first chunk uploads (tables) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
process.exit(0);
