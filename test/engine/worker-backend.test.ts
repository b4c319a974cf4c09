/**
 * The float64 worker pool: the same numbers as the in-thread kernel, a worker killed in the
 * middle of a chunk (or running out of memory) costs a retry and nothing else, and a chunk
 * that fails twice stops with a message naming the chunk and its parameter ranges.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planCommand } from '../../src/cli/commands/plan.js';
import { EngineError } from '../../src/engine/backend.js';
import type { ChunkResult } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkPieces, HybridBackend } from '../../src/engine/hybrid-backend.js';
import { InlineBackend } from '../../src/engine/inline-backend.js';
import type { Job } from '../../src/engine/job.js';
import { closeSharedPools, kernelThreadsStarted, sharedPoolWarm } from '../../src/engine/kernel-pool.js';
import { selectBackend } from '../../src/engine/select-backend.js';
import { WorkerBackend } from '../../src/engine/worker-backend.js';
import { e3hSpec } from '../../src/bench/dnp-e3h.js';
import { ROOT } from '../helpers/cli.js';
import { textSink } from '../helpers/text-sink.js';
import { STRONG_COUPLING } from '../helpers/systems.js';

const dir = mkdtempSync(join(tmpdir(), 'relaxmap-pool-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeSharedPools();
});

function benchJob(): Job {
  const path = join(ROOT, 'sweeps', 'bench-pair-map.yaml');
  // modes too, so that every part of the kernel crosses the thread boundary
  const text = readFileSync(path, 'utf8').replace('outputs: [rates, trajectories]', 'outputs: [rates, eigenrates, steady_state, trajectories]');
  return createJob({ text, source: path, overrides: [] });
}

const CHUNKS = [0, 1, 2, 3, 4, 5].map((id) => ({ id, variant: 0, start: id * 1000 + 17, count: 1000 }));

async function evaluateAll(backend: { evaluate: (c: (typeof CHUNKS)[number]) => Promise<ChunkResult> }): Promise<ChunkResult[]> {
  return Promise.all(CHUNKS.map((c) => backend.evaluate(c)));
}

function expectIdentical(a: readonly ChunkResult[], b: readonly ChunkResult[]): void {
  a.forEach((r, k) => {
    const other = b[k] as ChunkResult;
    expect(r.buffer.length).toBe(other.buffer.length);
    // bit for bit: NaN padding compares equal through Object.is
    let differ = 0;
    for (let i = 0; i < r.buffer.length; i++) if (!Object.is(r.buffer[i], other.buffer[i])) differ++;
    expect(differ).toBe(0);
  });
}

describe('worker pool', () => {
  const job = benchJob();
  let reference: ChunkResult[];

  it('gives bit-identical results to the in-thread float64 kernel', async () => {
    reference = await evaluateAll(new InlineBackend(job));
    const pool = new WorkerBackend(job, { workers: 2 });
    try {
      expectIdentical(await evaluateAll(pool), reference);
      expect(pool.stats().retries).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('the hybrid backend (main thread plus pool) gives the same bits', async () => {
    const hybrid = new HybridBackend(job, 1);
    try {
      expectIdentical(await evaluateAll(hybrid), reference);
      expect(hybrid.stats().points).toBe(6000);
    } finally {
      await hybrid.close();
    }
  });

  it('hybrid: a worker killed on its claim task is replaced, the task retried, results identical', async () => {
    const marker = join(dir, 'hybrid-crashed-once');
    const hybrid = new HybridBackend(job, 1, { faultInjection: { chunk: 0, crashMarker: marker } });
    try {
      expectIdentical(await evaluateAll(hybrid), reference);
      expect(readFileSync(marker, 'utf8')).toMatch(/killed worker on chunk 0/);
      expect(hybrid.stats().retries).toBe(1);
      expect(hybrid.pieceCounts.main + hybrid.pieceCounts.pool).toBe(CHUNKS.reduce((n, c) => n + chunkPieces(c.count).length, 0));
    } finally {
      await hybrid.close();
    }
  });

  it('a worker killed in the middle of a chunk: the chunk is retried on a fresh worker, results identical', async () => {
    const marker = join(dir, 'crashed-once');
    const pool = new WorkerBackend(job, { workers: 2, faultInjection: { chunk: 3, crashMarker: marker } });
    try {
      const results = await evaluateAll(pool);
      expect(readFileSync(marker, 'utf8')).toMatch(/killed worker on chunk 3/);
      expect(pool.stats().retries).toBe(1);
      expectIdentical(results, reference);
    } finally {
      await pool.close();
    }
  });

  it('a worker that runs out of memory: retried, results identical', async () => {
    const pool = new WorkerBackend(job, { workers: 2, maxHeapMb: 64, faultInjection: { chunk: 2, exhaustMemory: true } });
    try {
      const results = await evaluateAll(pool);
      expect(pool.stats().retries).toBe(1);
      expectIdentical(results, reference);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('a chunk that fails twice stops the run, naming the chunk and its parameter ranges', async () => {
    const pool = new WorkerBackend(job, { workers: 2, faultInjection: { chunk: 4, crashAlways: true } });
    try {
      const err = await pool.evaluate(CHUNKS[4] as (typeof CHUNKS)[number]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^chunk 4 \(1000 points: rodin-abergel/);
      expect(msg).toMatch(/T=\d/);
      expect(msg).toMatch(/kappa=-0\.5\.\.0\.9/);
      expect(msg).toMatch(/failed twice/);
    } finally {
      await pool.close();
    }
  });
});

/** Two variants (thermalizations) of the electron + three 1H benchmark, modes and trajectories: 2 x 128 points. */
function e3hJob(): Job {
  return createJob({ text: e3hSpec(16, 8), source: 'dnp-e3h', overrides: [] });
}

/** Chunks of both variants, of sizes that split into several pieces, one piece, and unevenly. */
const E3H_CHUNKS = [0, 1].flatMap((v) => [
  { id: 3 * v, variant: v, start: 0, count: 100 },
  { id: 3 * v + 1, variant: v, start: 100, count: 9 },
  { id: 3 * v + 2, variant: v, start: 109, count: 19 },
]);

describe('shared pool and hybrid pieces', () => {
  it('cuts chunks into contiguous pieces covering them exactly', () => {
    expect(chunkPieces(256)).toHaveLength(16);
    expect(chunkPieces(256)[1]).toEqual([16, 16]);
    expect(chunkPieces(1000)).toHaveLength(16);
    expect(chunkPieces(20)).toEqual([[0, 20]]);
    for (const n of [1, 15, 16, 33, 100, 129, 1000]) {
      const p = chunkPieces(n);
      let at = 0;
      for (const [o, c] of p) {
        expect(o).toBe(at);
        expect(c).toBeGreaterThan(0);
        at += c;
      }
      expect(at).toBe(n);
    }
  });

  it('hybrid gives the inline bits on a multi-variant spec (pieces shared by the main thread and the pool)', async () => {
    const job = e3hJob();
    const ref = await Promise.all(E3H_CHUNKS.map((c) => new InlineBackend(job).evaluate(c)));
    for (let round = 0; round < 2; round++) {
      // a fresh job each round: the workers learn it through the task protocol
      const j = round === 0 ? job : e3hJob();
      // round 0: the two sides race for the pieces; round 1: the main thread takes at most two
      // pieces of a chunk, so the pool's share is certain however slowly its worker starts
      const hybrid = new HybridBackend(j, 1, round === 0 ? {} : { mainPiecesPerChunk: 2 });
      try {
        const got = await Promise.all(E3H_CHUNKS.map((c) => hybrid.evaluate(c)));
        expectIdentical(got, ref);
        expect(hybrid.stats().points).toBe(256);
        expect(hybrid.stats().chunks).toBe(6);
        expect(hybrid.pieceCounts.main + hybrid.pieceCounts.pool).toBe(E3H_CHUNKS.reduce((n, c) => n + chunkPieces(c.count).length, 0));
        if (round === 1) {
          expect(hybrid.pieceCounts.main).toBeLessThanOrEqual(2 * E3H_CHUNKS.length);
          expect(hybrid.pieceCounts.pool).toBeGreaterThanOrEqual(chunkPieces(100).length - 2);
        }
        // the same routes as inline (every point counted once)
        const inline = new InlineBackend(j);
        await Promise.all(E3H_CHUNKS.map((c) => inline.evaluate(c)));
        expect(hybrid.stats().kernel).toEqual(inline.stats().kernel);
      } finally {
        await hybrid.close();
      }
    }
  });

  it('per-point systems: the workers rebuild the job from the spec sent with the task, same bits', async () => {
    const text = `${STRONG_COUPLING('bengs-levitt', 300, 12)}sweep:\n  B0: { lin: [1, 9.4], points: 24 }\n  T: { values: [30, 300] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`;
    const job = createJob({ text, source: 'strong-coupling', overrides: [] });
    expect(job.model.path).toBe('per-point');
    const chunks = [{ id: 0, variant: 0, start: 0, count: 48 }];
    const ref = await Promise.all(chunks.map((c) => new InlineBackend(job).evaluate(c)));
    const hybrid = new HybridBackend(job, 1);
    const pool = new WorkerBackend(job, { workers: 2 });
    try {
      expectIdentical(await Promise.all(chunks.map((c) => hybrid.evaluate(c))), ref);
      // the worker rebuilds the job before it claims (a failed rebuild fails the chunk); it
      // computes pieces only if the main thread has not claimed them all by then
      expect(hybrid.pieceCounts.main + hybrid.pieceCounts.pool).toBe(chunkPieces(48).length);
      expectIdentical(await Promise.all(chunks.map((c) => pool.evaluate(c))), ref);
    } finally {
      await hybrid.close();
      await pool.close();
    }
  });

  it('a second backend reuses the shared pool: no new worker threads', async () => {
    const job = e3hJob();
    const a = new WorkerBackend(job, { workers: 2 });
    const ra = await Promise.all(E3H_CHUNKS.map((c) => a.evaluate(c)));
    await a.close();
    expect(sharedPoolWarm(2)).toBe(true);
    const started = kernelThreadsStarted();
    const threads = a.kernelPool.piscina.threads.map((t) => t.threadId);
    expect(a.kernelPool.inUse).toBe(0);
    const b = new WorkerBackend(e3hJob(), { workers: 2 });
    try {
      expect(b.kernelPool).toBe(a.kernelPool);
      expect(b.kernelPool.inUse).toBe(1);
      expectIdentical(await Promise.all(E3H_CHUNKS.map((c) => b.evaluate(c))), ra);
      expect(kernelThreadsStarted()).toBe(started);
      expect(b.kernelPool.piscina.threads.map((t) => t.threadId)).toEqual(threads);
    } finally {
      await b.close();
    }
  });

  it('a worker that dropped a job (LRU of two) answers a miss and gets the payload again', async () => {
    const job = e3hJob();
    const first = new WorkerBackend(job, { workers: 2 });
    const ref = await Promise.all(E3H_CHUNKS.map((c) => first.evaluate(c)));
    await first.close();
    // two newer jobs push `job` out of every worker's cache
    for (let i = 0; i < 2; i++) {
      const other = new WorkerBackend(e3hJob(), { workers: 2 });
      await Promise.all(E3H_CHUNKS.map((c) => other.evaluate(c)));
      await other.close();
    }
    const again = new WorkerBackend(job, { workers: 2 });
    try {
      const misses = again.kernelPool.misses;
      expectIdentical(await Promise.all(E3H_CHUNKS.map((c) => again.evaluate(c))), ref);
      expect(again.kernelPool.misses).toBeGreaterThan(misses);
    } finally {
      await again.close();
    }
  });

  it('auto takes the hybrid backend when its shared pool is warm, and says so', async () => {
    await closeSharedPools();
    const job = e3hJob();
    const cold = await selectBackend(job, 64, { backend: 'auto', workers: 2 });
    await cold.backend.close();
    expect(cold.backend.name).toBe('inline');
    expect(cold.candidates.find((c) => c.backend === 'hybrid')?.reason).toMatch(/start-up/);
    const warmUp = new HybridBackend(job, 1);
    await Promise.all(E3H_CHUNKS.map((c) => warmUp.evaluate(c)));
    await warmUp.close();
    expect(sharedPoolWarm(1)).toBe(true);
    const warm = await selectBackend(job, 64, { backend: 'auto', workers: 2 });
    try {
      expect(warm.backend.name).toBe('hybrid');
      expect(warm.candidates.find((c) => c.chosen)?.reason).toMatch(/warm pool/);
      // with no start-up to pay the choice cannot depend on a calibration, so none is run
      expect(warm.calibration).toBeUndefined();
      expect(warm.estimateSeconds).toBeUndefined();
    } finally {
      await warm.backend.close();
    }
    // plan in this (warm) process still gives an ETA: it calibrates for itself
    const sink = textSink();
    await planCommand(join(ROOT, 'bench', 'baseline', 'dnp-e3h.yaml'), { json: true, workers: '2' }, sink.stream);
    const plan = JSON.parse(sink.text().trim()) as { eta_s: number | null; backend: { name: string } };
    expect(plan.backend.name).toBe('hybrid');
    expect(plan.eta_s).toBeGreaterThan(0);
    expect(plan.eta_s).toBeLessThan(60);
  });
});
