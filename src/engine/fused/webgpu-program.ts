/**
 * The fused WGSL kernel run through TensorFlow.js's WebGPU backend: a custom program handed
 * to WebGPUBackend.runWebGPUProgram, which compiles it once per shape (its pipeline cache),
 * binds our input tensors and a uniform buffer, and records one dispatch.
 *
 * Why tfjs and not Dawn directly: the backend owns the GPUDevice that the tensor path and
 * batched-expm.ts use too (one device, one queue), it already copes with device limits (a
 * dispatch wider than maxComputeWorkgroupsPerDimension is folded into y and z) and with
 * buffer reuse, and tensors give the leak check (tf.memory()) for free. The price: the
 * program interface is internal to @tensorflow/tfjs-backend-webgpu, so the package is pinned
 * at exactly 4.22.0 (package.json) and this file is the only place that relies on it: the
 * preamble's bindings (result, inputs in variableNames order, a uniform struct with our
 * fields appended), its entry point calling main(index), and the signature
 * runWebGPUProgram(program, inputs, dtype, uniforms).
 */
import type { Tensor } from '@tensorflow/tfjs';
import type { Tf } from '../tfjs/load-tfjs.js';
import { fusedWgsl, shapeKey, workgroupsFor, workgroupSize, type FusedShape } from './fused-wgsl.js';

/** The subset of WebGPUBackend (tfjs-backend-webgpu 4.22.0) used here. */
interface WebgpuBackendLike {
  runWebGPUProgram(program: unknown, inputs: unknown[], outputDtype: string, uniforms?: Array<{ type: string; data: number[] }>): { dataId: object; shape: number[]; dtype: string };
  readonly device: { readonly limits: { readonly maxComputeWorkgroupStorageSize: number; readonly maxStorageBufferBindingSize: number } };
}

class FusedProgram {
  readonly variableNames = ['tabs', 'ints', 'parm'];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number];
  readonly uniforms = 'start : i32, count : i32,';
  readonly size = false;
  private readonly code: string;

  constructor(shape: FusedShape, code: string, outLength: number, count: number) {
    this.outputShape = [outLength];
    this.shaderKey = shapeKey(shape);
    this.workgroupSize = [workgroupSize(shape.layout), 1, 1];
    this.dispatch = [workgroupsFor(shape.layout, count), 1, 1];
    this.code = code;
  }

  getUserCode(): string {
    return this.code;
  }
}

export function webgpuBackendOf(tf: Tf): WebgpuBackendLike {
  const b = tf.backend() as unknown as Partial<WebgpuBackendLike>;
  if (typeof b.runWebGPUProgram !== 'function' || !b.device) throw new Error('the active tfjs backend is not webgpu');
  return b as WebgpuBackendLike;
}

/** Limits of the device the fused kernel has to fit. */
export function webgpuLimits(tf: Tf): { workgroupBytes: number; bindingBytes: number } {
  const l = webgpuBackendOf(tf).device.limits;
  return { workgroupBytes: l.maxComputeWorkgroupStorageSize, bindingBytes: l.maxStorageBufferBindingSize };
}

const codeCache = new Map<string, string>();

/**
 * Records one dispatch of the fused kernel for points start..start+count-1 and returns the
 * output tensor [fusedOutputLength] (not yet computed: reading it submits the queue).
 */
export function dispatchFused(tf: Tf, shape: FusedShape, inputs: readonly [Tensor, Tensor, Tensor], start: number, count: number, outLength: number): Tensor {
  const key = shapeKey(shape);
  let code = codeCache.get(key);
  if (code === undefined) {
    code = fusedWgsl(shape);
    codeCache.set(key, code);
  }
  const backend = webgpuBackendOf(tf);
  const program = new FusedProgram(shape, code, outLength, count);
  const info = backend.runWebGPUProgram(program, [...inputs], 'float32', [
    { type: 'int32', data: [start] },
    { type: 'int32', data: [count] },
  ]);
  return tf.engine().makeTensorFromTensorInfo(info as never);
}
