/**
 * A board of a chunk's pieces shared by the main thread and pool workers (a SharedArrayBuffer
 * of Int32): workers claim pieces from the front, the main thread from the back, each claim
 * one atomic compare-and-exchange on the piece's slot. Why: handing pieces out by message made
 * a worker wait until the main thread, busy with its own piece, took its results and posted
 * the next ones (traced: idle 30-40% of a dnp-e3h round). With the board a worker keeps
 * computing until every piece is claimed; its results still come back in one message.
 *
 * Layout: [front, back, slot_0 .. slot_{n-1}]. front is the next index a worker tries, back
 * one past the next index the main thread tries. A slot is FREE, MAIN, or the tag (> 0) of
 * the pool task that claimed it. Each side stops at the first slot the other side already
 * holds, so every piece is claimed exactly once.
 */
export const FREE = 0;
export const MAIN = -1;

/** What a pool task needs to claim pieces: the board, the pieces' [offset, count] in the chunk, and its tag. */
export interface ClaimTask {
  readonly board: SharedArrayBuffer;
  /** [offset_0, count_0, offset_1, count_1, ...] within the chunk. */
  readonly pieces: Int32Array;
  /** This task's mark on the slots it claims (> 0, unique per task of the chunk). */
  readonly tag: number;
}

/** A board of n free pieces. */
export function newBoard(n: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(4 * (2 + n));
  const b = new Int32Array(sab);
  b[1] = n;
  return sab;
}

/** A worker's next piece from the front, or -1 when none is left. */
export function claimFront(task: ClaimTask): number {
  const b = new Int32Array(task.board);
  const n = b.length - 2;
  const i = Atomics.add(b, 0, 1);
  if (i >= n) return -1;
  return Atomics.compareExchange(b, 2 + i, FREE, task.tag) === FREE ? i : -1;
}

/** The main thread's next piece from the back, or -1 when none is left. */
export function claimBack(board: SharedArrayBuffer): number {
  const b = new Int32Array(board);
  const j = Atomics.sub(b, 1, 1) - 1;
  if (j < 0) return -1;
  return Atomics.compareExchange(b, 2 + j, FREE, MAIN) === FREE ? j : -1;
}

/** No more claims on either side (a failed or abandoned chunk: its workers stop after their current piece). */
export function closeBoard(board: SharedArrayBuffer): void {
  const b = new Int32Array(board);
  Atomics.store(b, 0, b.length - 2);
  Atomics.store(b, 1, 0);
}

/** Pieces whose slot holds `mark`. */
function slotsHolding(board: SharedArrayBuffer, mark: number): number[] {
  const b = new Int32Array(board);
  const out: number[] = [];
  for (let i = 0; i < b.length - 2; i++) if (Atomics.load(b, 2 + i) === mark) out.push(i);
  return out;
}

/** Pieces already marked with the task's tag (a failed attempt of the same task claimed them). */
export function reclaimed(task: ClaimTask): number[] {
  return slotsHolding(task.board, task.tag);
}

/** Pieces not yet claimed by anyone (the board after both sides stopped: none). */
export function unclaimed(board: SharedArrayBuffer): number[] {
  return slotsHolding(board, FREE);
}
