/**
 * A worker thread for test/engine/piece-board.test.ts: claims pieces from the front of the board
 * it is sent until none is left (or `stopAfter` pieces, like a worker that dies), and posts the
 * indices it claimed.
 */
import { parentPort } from 'node:worker_threads';
import { claimFront, type ClaimTask } from '../../src/engine/piece-board.js';

parentPort?.once('message', (m: { task: ClaimTask; stopAfter?: number }) => {
  const got: number[] = [];
  for (let i = claimFront(m.task); i >= 0; i = claimFront(m.task)) {
    got.push(i);
    if (m.stopAfter !== undefined && got.length >= m.stopAfter) break;
  }
  parentPort?.postMessage(got);
});
