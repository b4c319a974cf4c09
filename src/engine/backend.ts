import { emptyKernelCounters, type KernelCounters } from '../evaluate/route-counters.js';
import type { Chunk, ChunkResult } from './chunk.js';

/** Counters a backend keeps over a run (reported in run.json). */
export interface BackendStats {
  chunks: number;
  points: number;
  /** Chunks retried after a worker failure. */
  retries: number;
  /** float32 backends: points checked against float64, and points recomputed in float64. */
  precisionChecked: number;
  precisionRecomputed: number;
  /** Largest relative float32 error seen on checked points. */
  precisionMaxError: number;
  /** How the float64 kernels evaluated their points (routes and trajectory paths). */
  kernel: KernelCounters;
}

export { addKernelCounters, emptyKernelCounters, type KernelCounters } from '../evaluate/route-counters.js';

/**
 * One way of evaluating chunks of a job. Every backend returns the same ChunkResult
 * layout, so the sweep executor does not care which one ran.
 */
export interface EngineBackend {
  /** Short name: 'workers', 'inline', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu', 'tfjs-tensorflow'. */
  readonly name: string;
  /** One line for humans: threads, device, precision. */
  readonly description: string;
  readonly precision: 'float64' | 'float32';
  /** Chunks to keep in flight (default: threads + 1). */
  readonly lanes?: number;
  evaluate(chunk: Chunk): Promise<ChunkResult>;
  stats(): BackendStats;
  close(): Promise<void>;
}

export function emptyStats(): BackendStats {
  return { chunks: 0, points: 0, retries: 0, precisionChecked: 0, precisionRecomputed: 0, precisionMaxError: 0, kernel: emptyKernelCounters() };
}

/** A failure of the engine itself (not of the input): exit code 1 with this message. */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}
