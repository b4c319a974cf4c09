/**
 * Points per second of the float32 tfjs backends (cpu, wasm; webgpu/tensorflow when this
 * machine has them) against the float64 kernel in-thread (InlineBackend) on
 * sweeps/bench-pair-map.yaml: 65,536 points, <Mz>(t) and <I1.I2>(t) at 128 times plus
 * projection rates, in chunks of 16,384 (the sweep planner's largest).
 *
 *   npx tsx bench/tfjs-backend.bench.ts [--points N] [--chunk N] [--repeat N] [--backends inline,cpu,wasm,auto]
 *
 * Each backend evaluates one small chunk first (JIT, wasm compilation, kernel caches), then
 * the timed chunks one after the other, as the sweep executor feeds a single backend; the
 * best of --repeat passes (default 3) is reported, the machine being shared.
 * Also reported: the precision contract's counters and the tfjs tensors left over.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import type { EngineBackend } from '../src/engine/backend.js';
import { createJob } from '../src/engine/create-job.js';
import { InlineBackend } from '../src/engine/inline-backend.js';
import { createTfjsBackend, type TfjsBackend } from '../src/engine/tfjs/tfjs-backend.js';

function arg(name: string, fallback: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] !== undefined ? (process.argv[k + 1] as string) : fallback;
}

const job = createJob({ text: readFileSync('sweeps/bench-pair-map.yaml', 'utf8'), source: 'sweeps/bench-pair-map.yaml', overrides: [] });
const total = Math.min(Number(arg('points', String(job.grid.pointsPerVariant))), job.grid.pointsPerVariant);
const chunkSize = Number(arg('chunk', '16384'));
const which = arg('backends', 'inline,cpu,wasm').split(',');
const repeat = Math.max(1, Number(arg('repeat', '3')));

console.log(`bench-pair-map: ${total} of ${job.grid.pointsPerVariant} points, ${job.nTimes} times, chunks of ${chunkSize}; ${cpus()[0]?.model ?? 'cpu'} x ${availableParallelism()}, Node ${process.version}`);
console.log(`backend        setup s   points/s   vs inline   checked  recomputed  max f32 error  tensors left   (best of ${repeat}; counters over all passes)`);

let inlineRate = NaN;
for (const name of which) {
  const t0 = performance.now();
  let backend: EngineBackend;
  if (name === 'inline') backend = new InlineBackend(job);
  else backend = await createTfjsBackend(job, { prefer: name as 'cpu' | 'wasm' | 'webgpu' | 'tensorflow' | 'auto' });
  await backend.evaluate({ id: -1, variant: 0, start: 0, count: 512 });
  const setup = (performance.now() - t0) / 1000;
  const tf = (backend as Partial<TfjsBackend>).tfjs?.tf;
  const tensors = tf?.memory().numTensors ?? 0;
  const before = backend.stats();
  let seconds = Infinity;
  for (let pass = 0; pass < repeat; pass++) {
    const t1 = performance.now();
    for (let start = 0, id = 0; start < total; start += chunkSize, id++) {
      await backend.evaluate({ id, variant: 0, start, count: Math.min(chunkSize, total - start) });
    }
    seconds = Math.min(seconds, (performance.now() - t1) / 1000);
  }
  const rate = total / seconds;
  if (name === 'inline') inlineRate = rate;
  const st = backend.stats();
  const left = tf ? tf.memory().numTensors - tensors : 0;
  console.log(
    `${backend.name.padEnd(14)} ${setup.toFixed(2).padStart(7)} ${rate.toFixed(0).padStart(10)} ${Number.isFinite(inlineRate) ? (rate / inlineRate).toFixed(2).padStart(10) : '         -'}` +
      ` ${String(st.precisionChecked - before.precisionChecked).padStart(9)} ${String(st.precisionRecomputed - before.precisionRecomputed).padStart(11)}` +
      ` ${backend.precision === 'float32' ? st.precisionMaxError.toExponential(2).padStart(14) : '             -'} ${String(left).padStart(13)}`,
  );
  await backend.close();
}
