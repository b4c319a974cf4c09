/**
 * The board on which the hybrid backend's main thread and pool workers claim a chunk's pieces
 * (src/engine/piece-board.ts): every piece is claimed exactly once, whatever the interleaving,
 * with real threads claiming at once, and a retried task finds the pieces of its failed attempt.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { claimBack, claimFront, closeBoard, FREE, MAIN, newBoard, reclaimed, unclaimed, type ClaimTask } from '../../src/engine/piece-board.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

/** test/helpers/claim-worker.ts in a worker thread, imported through tsx's API (as workers/kernel-worker.ts does). */
function claimWorker(): Worker {
  const url = new URL('../helpers/claim-worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(url)}, ${JSON.stringify(url)}));`, { eval: true });
}

function task(board: SharedArrayBuffer, tag: number): ClaimTask {
  return { board, pieces: new Int32Array(0), tag };
}

describe('piece board', () => {
  it('front and back claims in any interleaving cover every piece exactly once (n = 1-24, 400 orders)', () => {
    const rand = mulberry32(11);
    for (let c = 0; c < 400; c++) {
      const n = 1 + (c % 24);
      const board = newBoard(n);
      const t1 = task(board, 1);
      const t2 = task(board, 2);
      const owner = new Array<number>(n).fill(0);
      const live = new Set(['front1', 'front2', 'back']);
      while (live.size > 0) {
        const side = [...live][Math.floor(rand() * live.size)] as string;
        const i = side === 'back' ? claimBack(board) : claimFront(side === 'front1' ? t1 : t2);
        if (i < 0) {
          live.delete(side);
          continue;
        }
        expect(owner[i]).toBe(0);
        owner[i] = side === 'back' ? MAIN : side === 'front1' ? 1 : 2;
      }
      expect(owner.every((x) => x !== 0)).toBe(true);
      expect(unclaimed(board)).toEqual([]);
      // the main thread's pieces are a contiguous run at the end
      const firstMain = owner.indexOf(MAIN);
      if (firstMain >= 0) expect(owner.slice(firstMain).every((x) => x === MAIN)).toBe(true);
    }
  });

  it('three worker threads and the main thread claiming at once: each of 20,000 pieces exactly once', async () => {
    const n = 20_000;
    const board = newBoard(n);
    const workers = [1, 2, 3].map(() => claimWorker());
    try {
      const results = workers.map((w, k) => new Promise<number[]>((ok, fail) => {
        w.once('message', ok);
        w.once('error', fail);
        w.postMessage({ task: task(board, k + 1) });
      }));
      const mine: number[] = [];
      for (let i = claimBack(board); i >= 0; i = claimBack(board)) mine.push(i);
      const all = [...mine, ...(await Promise.all(results)).flat()];
      expect(all.length).toBe(n);
      expect(new Set(all).size).toBe(n);
      const b = new Int32Array(board);
      for (const i of mine) expect(b[2 + i]).toBe(MAIN);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('a task that stopped after two pieces (its worker died) finds them again by its tag; other pieces stay claimable', async () => {
    const n = 12;
    const board = newBoard(n);
    const w = claimWorker();
    try {
      const first = await new Promise<number[]>((ok, fail) => {
        w.once('message', ok);
        w.once('error', fail);
        w.postMessage({ task: task(board, 5), stopAfter: 2 });
      });
      expect(first).toEqual([0, 1]);
      const retry = task(board, 5);
      expect(reclaimed(retry)).toEqual([0, 1]);
      expect(reclaimed(task(board, 6))).toEqual([]);
      expect(unclaimed(board)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      // the retry continues from the front; the main thread from the back
      expect(claimFront(retry)).toBe(2);
      expect(claimBack(board)).toBe(11);
      expect(new Int32Array(board)[2 + 3]).toBe(FREE);
      // a closed board (failed chunk) gives no more pieces to either side
      closeBoard(board);
      expect(claimFront(retry)).toBe(-1);
      expect(claimBack(board)).toBe(-1);
    } finally {
      await w.terminate();
    }
  });
});
