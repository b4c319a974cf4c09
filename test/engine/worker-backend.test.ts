/**
 * The float64 worker pool: the same numbers as the in-thread kernel, a worker killed in the
 * middle of a chunk (or running out of memory) costs a retry and nothing else, and a chunk
 * that fails twice stops with a message naming the chunk and its parameter ranges.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/backend.js';
import type { ChunkResult } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { HybridBackend } from '../../src/engine/hybrid-backend.js';
import { InlineBackend } from '../../src/engine/inline-backend.js';
import type { Job } from '../../src/engine/job.js';
import { WorkerBackend } from '../../src/engine/worker-backend.js';
import { ROOT } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'relaxmap-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
