/**
 * Reused result storage (src/engine/result-pool.ts): a released buffer comes back zeroed, and
 * a run whose results are released and reused gives, bit for bit, the results of fresh
 * storage. dispatchChunks releases a result only after its consumer is done with it.
 */
import { describe, expect, it } from 'vitest';
import type { EngineBackend } from '../../src/engine/backend.js';
import { emptyStats } from '../../src/engine/backend.js';
import { chunkViews, type Chunk, type ChunkResult } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { HybridBackend } from '../../src/engine/hybrid-backend.js';
import { InlineBackend } from '../../src/engine/inline-backend.js';
import { closeSharedPools } from '../../src/engine/kernel-pool.js';
import { ResultPool } from '../../src/engine/result-pool.js';
import { WorkerBackend } from '../../src/engine/worker-backend.js';
import { e3hSpec } from '../../src/bench/dnp-e3h.js';
import { dispatchChunks } from '../../src/sweep/executor.js';
import { makePlan, shardChunks } from '../../src/sweep/plan.js';

describe('ResultPool', () => {
  it('hands a released buffer out again, zero-filled, and keeps at most the configured number per length', () => {
    const pool = new ResultPool(2);
    const a = pool.acquire(100);
    a.fill(7);
    pool.release(a);
    const b = pool.acquire(100);
    expect(b).toBe(a);
    expect(b.every((x) => Object.is(x, 0))).toBe(true);
    expect(pool.reused).toBe(1);
    // another length is another list; a view into a larger buffer is never taken
    expect(pool.acquire(50)).not.toBe(a);
    pool.release(new Float64Array(200).subarray(0, 100));
    expect(pool.acquire(100)).not.toBe(a);
    // at most two kept; releasing the same buffer twice keeps it once
    const c = [pool.acquire(10), pool.acquire(10), pool.acquire(10)];
    for (const x of c) pool.release(x);
    pool.release(c[0] as Float64Array);
    const back = [pool.acquire(10), pool.acquire(10), pool.acquire(10)];
    expect(back.filter((x) => c.includes(x))).toHaveLength(2);
  });
});

describe('released results', () => {
  // an electron and three 1H, 8 x 4 points per model, 61 log-spaced times, chunks of 8 points
  const job = createJob({ text: e3hSpec(8, 4), source: 'dnp-e3h', overrides: [] });
  const plan = makePlan(job, { memoryBytes: 2e9, chunkSize: 8 });

  async function collect(backend: EngineBackend): Promise<Map<number, Float64Array>> {
    const out = new Map<number, Float64Array>();
    await dispatchChunks(backend, plan, shardChunks(plan), 2, (id, res) => {
      out.set(id, res.buffer.slice());
    });
    await backend.close();
    return out;
  }

  it('are bit for bit those of fresh storage (inline, hybrid, workers), with the storage reused', async () => {
    expect(plan.chunkCount).toBeGreaterThanOrEqual(6);
    // the reference: results that are never released (each in new storage)
    const fresh = new InlineBackend(job);
    const reference = await collect(wrap(fresh));
    expect(fresh.results.reused).toBe(0);
    const inline = new InlineBackend(job);
    const viaInline = await collect(inline);
    expect(inline.results.reused).toBeGreaterThan(0);
    const hybrid = new HybridBackend(job, 1);
    const viaHybrid = await collect(hybrid);
    expect(hybrid.results.reused).toBeGreaterThan(0);
    // the worker pool: released buffers go back to the workers with later tasks
    const workers = new WorkerBackend(job, { workers: 2 });
    const viaWorkers = await collect(workers);
    expect(workers.results.reused).toBeGreaterThan(0);
    await closeSharedPools();
    for (const [id, want] of reference) {
      for (const got of [viaInline.get(id), viaHybrid.get(id), viaWorkers.get(id)]) {
        expect(got).toBeDefined();
        let differ = 0;
        for (let i = 0; i < want.length; i++) if (!Object.is(want[i], (got as Float64Array)[i])) differ++;
        expect(differ, `chunk ${id}`).toBe(0);
      }
    }
  }, 60_000);

  it('are released only after the consumer is done with them', async () => {
    const events: string[] = [];
    const shape = { count: 1, nObs: 1, nModes: 0, nTimes: 0 };
    const backend: EngineBackend = {
      name: 'probe',
      description: 'test double',
      precision: 'float64',
      evaluate: (chunk: Chunk) => Promise.resolve(chunkViews({ ...shape, count: chunk.count })),
      release: (r: ChunkResult) => events.push(`release ${r.shape.count}`),
      stats: () => emptyStats(),
      close: () => Promise.resolve(),
    };
    await dispatchChunks(backend, plan, [0, 1], 1, async (id) => {
      events.push(`start ${id}`);
      await new Promise((ok) => setTimeout(ok, 5));
      events.push(`done ${id}`);
    });
    expect(events).toEqual(['start 0', 'done 0', 'release 8', 'start 1', 'done 1', 'release 8']);
  });
});

/** The backend's methods without its release (so that nothing is reused). */
function wrap(b: InlineBackend): EngineBackend {
  return { name: b.name, description: b.description, precision: b.precision, evaluate: (c, s) => b.evaluate(c, s), stats: () => b.stats(), close: () => b.close() };
}
