/**
 * Compiling and instantiating the embedded WebAssembly modules (src/math/wasm-*-binary.ts),
 * once per module and thread. The parts of the WebAssembly JS API used here are declared
 * locally: the ES2023 lib this project compiles against has none.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

/** Bytes below this offset are left to a module (AssemblyScript keeps its static data there). */
export const WASM_BASE = 8192;
export const WASM_PAGE = 65536;

const compiled = new Map<string, object | null>();

/** The compiled module of a base64 binary, or null where WebAssembly (with SIMD) is not available. */
export function wasmModule(base64: string): object | null {
  let mod = compiled.get(base64);
  if (mod === undefined) {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    try {
      mod = api ? new api.Module(Buffer.from(base64.replace(/\s/g, ''), 'base64')) : null;
    } catch {
      // no SIMD support: callers keep their JavaScript code
      mod = null;
    }
    compiled.set(base64, mod);
  }
  return mod;
}

/** A new instance (its own linear memory) of a compiled module, grown to hold `bytes`. */
export function wasmInstance(mod: object, bytes: number): { readonly exports: Record<string, unknown>; readonly memory: WasmMemory } {
  const inst = new ((globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly.Instance)(mod, {});
  const memory = inst.exports.memory as WasmMemory;
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / WASM_PAGE));
  return { exports: inst.exports, memory };
}

/** Whether an instance could not be created for lack of address space (a process under ulimit -v). */
export function isMemoryShortage(e: unknown): boolean {
  return e instanceof RangeError || (e as Error)?.name === 'RangeError' || /memory/i.test(String((e as Error)?.message));
}
