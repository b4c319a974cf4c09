/**
 * Storage of chunk results handed back by their consumer (EngineBackend.release), reused for
 * later chunks of the same length. Why: a chunk's result is one Float64Array of a few MB (a
 * pair map's 2,048-point chunk with 128 times: 4.3 MB), and a fresh one costs a page fault
 * per 4 KB on first touch plus write-allocate misses: the pair map's trajectory loop ran at
 * 7-11 ns per step into fresh buffers against 5-8 ns into reused ones. A reused buffer is
 * zero-filled, so a result is exactly what it would be in new storage.
 *
 * Only buffers the consumer releases come back; a result never released is left to the
 * garbage collector as before. The pool lives as long as its backend.
 */
export class ResultPool {
  private readonly free = new Map<number, Float64Array[]>();
  private readonly maxFreePerLength: number;
  /** Buffers handed out again (tests, tuning). */
  reused = 0;

  /** maxFreePerLength: released buffers of one length kept for reuse (more are dropped). */
  constructor(maxFreePerLength = 4) {
    this.maxFreePerLength = maxFreePerLength;
  }

  /** A zeroed buffer of `length` values: a released one when there is one, else new. */
  acquire(length: number): Float64Array {
    const hit = this.reusable(length);
    if (!hit) return new Float64Array(length);
    hit.fill(0);
    return hit;
  }

  /**
   * A released buffer of `length` values as it was left (not zeroed: for a worker thread it is
   * sent to, which zeroes it there), or undefined when none is free.
   */
  reusable(length: number): Float64Array | undefined {
    const hit = this.free.get(length)?.pop();
    if (hit) this.reused++;
    return hit;
  }

  /** A buffer whose result nobody reads any more (a view into a larger buffer is not taken). */
  release(buffer: Float64Array): void {
    if (buffer.byteOffset !== 0 || buffer.length !== buffer.buffer.byteLength / 8) return;
    let list = this.free.get(buffer.length);
    if (!list) {
      list = [];
      this.free.set(buffer.length, list);
    }
    if (list.length < this.maxFreePerLength && !list.includes(buffer)) list.push(buffer);
  }
}
