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
  /** Tensor backends: what crossed between host and device, and where the time went. */
  device?: DeviceStats;
}

/** Per-chunk timing of a tensor backend. */
export interface ChunkTiming {
  readonly chunk: number;
  readonly points: number;
  /** Device batch the chunk was computed in (several chunks share one dispatch on a GPU). */
  readonly batch: number;
  /** Host seconds spent on this chunk: float64 side outputs, copies, precision contract. */
  readonly host_s: number;
  /** Seconds from the batch's dispatch until its results were on the host. */
  readonly device_s: number;
}

/** Counters of a tensor backend's device traffic, reported in run.json (backend.stats). */
export interface DeviceStats {
  /** The float32 kernels used: 'fused-wgsl' (one WGSL dispatch per batch), 'fused-js', 'tensor' (tfjs ops). */
  kernels: string[];
  /** Kernel launches on the device (tfjs programs on WebGPU; tfjs kernels on cpu/wasm). */
  device_dispatches: number;
  /** Reads of device memory by the host. */
  device_readbacks: number;
  device_upload_bytes: number;
  device_readback_bytes: number;
  device_batches: number;
  /** Points sent to float64 by the a-priori test (non-finite, or estimated beyond the tolerance). */
  precision_routed: number;
  /** Chunks recomputed whole because a sampled point exceeded the tolerance. */
  precision_whole_chunks: number;
  chunk_times: ChunkTiming[];
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
  /**
   * Evaluate one chunk. When `signal` aborts the backend gives up the chunk as soon as it can
   * (the in-thread kernel within a time slice, about 50 ms) and rejects with an AbortError.
   */
  evaluate(chunk: Chunk, signal?: AbortSignal): Promise<ChunkResult>;
  /**
   * The caller no longer reads `result` (nor any view of it): its storage may hold a later
   * chunk's result (src/engine/result-pool.ts). Optional on both sides: a backend without it
   * allocates every result, and a result never released is simply garbage collected.
   */
  release?(result: ChunkResult): void;
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

/** The rejection of a chunk given up because its AbortSignal fired. */
export function abortError(signal: AbortSignal): Error {
  const e = new Error(`chunk evaluation stopped: ${String((signal.reason as Error | undefined)?.message ?? 'aborted')}`);
  e.name = 'AbortError';
  return e;
}
