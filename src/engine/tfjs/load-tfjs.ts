/**
 * Lazy loading of TensorFlow.js and the choice of its backend.
 *
 * Nothing here is imported at the top level of the engine: tfjs costs about half a second
 * and tens of megabytes to load, and most runs use the float64 worker pool. Every module
 * is brought in with a dynamic import whose specifier is a variable, so the optional
 * packages (@tensorflow/tfjs-node, -node-gpu, webgpu, @tensorflow/tfjs-backend-webgpu)
 * need not even be installed for the project to typecheck and build: npm drops an
 * optional dependency whose install script fails and still exits 0.
 *
 * The native candidates are first tried in a short-lived child process. A libtensorflow
 * built for other CPU features, or a Vulkan driver that Dawn trips over, can abort the
 * process from native code (no JavaScript exception to catch), and Dawn writes its
 * "Couldn't load Vulkan" warnings straight to the stderr file descriptor. The probe takes
 * both hits; only a candidate that worked there is loaded in this process.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The tfjs namespace (the union package; tfjs-node registers its backend on the same engine). */
export type Tf = typeof import('@tensorflow/tfjs');

export type TfjsBackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type TfjsPreference = 'auto' | TfjsBackendName;

/** The WebGPU adapter Dawn offered, as GPUAdapterInfo describes it. */
export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly device: string;
  /** The adapter calls itself a fallback (software) adapter. */
  readonly fallback: boolean;
  /** A CPU implementation (fallback flag, or SwiftShader / llvmpipe / lavapipe / WARP by name): never counted as a GPU. */
  readonly cpu: boolean;
}

export interface LoadedTfjs {
  readonly tf: Tf;
  /** The tfjs backend now active: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'. */
  readonly backend: string;
  /** Why this backend: the preference and what was passed over. */
  readonly reason: string;
  /** Every candidate that failed or was passed over before the one chosen, with the reason. */
  readonly tried: Array<{ backend: string; error: string }>;
  /** The WebGPU adapter, when webgpu was probed and an adapter exists (chosen or not). */
  readonly adapter?: AdapterInfo | undefined;
}

/** Names of software rasterisers and CPU Vulkan/D3D implementations. */
const CPU_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|\bwarp\b|\bcpu\b/i;

export function classifyAdapter(info: { vendor?: unknown; architecture?: unknown; description?: unknown; device?: unknown; isFallbackAdapter?: unknown }): AdapterInfo {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const a = { vendor: str(info.vendor), architecture: str(info.architecture), description: str(info.description), device: str(info.device) };
  const fallback = info.isFallbackAdapter === true;
  return { ...a, fallback, cpu: fallback || CPU_ADAPTER.test(`${a.vendor} ${a.architecture} ${a.description} ${a.device}`) };
}

export function adapterName(a: AdapterInfo): string {
  return [a.vendor, a.architecture, a.description].filter((x) => x).join(' ') || a.device || 'unnamed adapter';
}

export interface LoadTfjsOptions {
  /** Print each attempt (true: to stderr; or a line sink). Silent by default. */
  readonly verbose?: boolean | ((line: string) => void);
  /** Time limit of a native probe in the child process (default 30 s). */
  readonly probeTimeoutMs?: number;
  /**
   * Where the optional native packages (tfjs-node, tfjs-node-gpu, webgpu,
   * tfjs-backend-webgpu) are resolved from: a file path or file URL (default: this module,
   * i.e. the project's node_modules). tfjs itself and its wasm backend always come from
   * the project.
   */
  readonly resolveFrom?: string;
  /**
   * Only the preferred backend will do: throw (with every reason) instead of falling down
   * the chain. 'auto' is never strict.
   */
  readonly strict?: boolean;
}

/** Best first. A preference starts the chain there; 'auto' starts at the top. */
export const TFJS_BACKEND_ORDER: readonly TfjsBackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

const projectRequire = createRequire(import.meta.url);

/** Dynamic import through a variable: TypeScript neither resolves nor types the optional module. */
async function importOptional(specifier: string): Promise<Record<string, unknown>> {
  const spec: string = specifier;
  return (await import(spec)) as Record<string, unknown>;
}

/** Imports a module by its resolved file path. */
async function importPath(path: string): Promise<Record<string, unknown>> {
  return importOptional(pathToFileURL(path).href);
}

function message(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.message;
  return String(e);
}

type Resolver = (specifier: string) => string | undefined;

function resolverFrom(from: string | undefined): Resolver {
  const req = from === undefined ? projectRequire : createRequire(from);
  return (specifier) => {
    try {
      return req.resolve(specifier);
    } catch {
      return undefined;
    }
  };
}

let tfPromise: Promise<Tf> | undefined;

async function importTf(): Promise<Tf> {
  tfPromise ??= (async () => {
    const mod = (await importOptional('@tensorflow/tfjs')) as unknown as Tf & { default?: Tf };
    // a CommonJS bundle: its full exports object is the default export
    return mod.default && typeof mod.default.setBackend === 'function' ? mod.default : mod;
  })();
  return tfPromise;
}

/**
 * Switches the global tfjs engine to `name`. tfjs reports a failed backend initialisation
 * only through console.warn (and not at all in production mode); the warnings are
 * collected here as the reason instead of being printed.
 */
async function setBackendQuietly(tf: Tf, name: string): Promise<{ ok: boolean; error: string }> {
  const env = tf.env();
  const prod = env.getBool('PROD');
  const warn = console.warn;
  const lines: string[] = [];
  env.set('PROD', false);
  console.warn = (...args: unknown[]) => {
    lines.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  };
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    lines.push(message(e));
  } finally {
    console.warn = warn;
    env.set('PROD', prod);
  }
  const detail = lines
    .flatMap((l) => l.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('at '))
    .slice(0, 3)
    .join('; ');
  return { ok, error: ok ? '' : detail || `tf.setBackend('${name}') returned false` };
}

/** Runs `code` (CommonJS) in a child Node process; the last stdout line is its JSON answer. */
function probe(code: string, timeoutMs: number): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const res = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  if (res.error) return { ok: false, error: `probe process: ${message(res.error)}` };
  const out = (res.stdout ?? '').trim().split('\n').pop() ?? '';
  let value: Record<string, unknown> | undefined;
  try {
    value = JSON.parse(out) as Record<string, unknown>;
  } catch {
    value = undefined;
  }
  if (res.status !== 0 || !value) {
    const why = res.signal ? `killed by ${res.signal}` : `exit ${res.status}`;
    const err = (res.stderr ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('at ') && !l.startsWith('^') && !l.startsWith('Node.js v') && !l.startsWith('throw '))
      .slice(-2)
      .join('; ');
    return { ok: false, error: `probe ${why}${err ? `: ${err}` : ''}` };
  }
  return { ok: true, value };
}

/** Outcome of one candidate, kept for the process: probes and native loads happen once. */
type Attempt = { ok: true; detail: string; adapter?: AdapterInfo } | { ok: false; error: string; adapter?: AdapterInfo };
const attempts = new Map<string, Promise<Attempt>>();

async function tryTensorflow(tf: Tf, resolve: Resolver, timeoutMs: number): Promise<Attempt> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const path = resolve(pkg);
    if (!path) {
      errors.push(`${pkg}: not installed`);
      continue;
    }
    const p = probe(`require(${JSON.stringify(path)}); console.log(JSON.stringify({ ok: true }));`, timeoutMs);
    if (!p.ok) {
      errors.push(`${pkg}: ${p.error}`);
      continue;
    }
    try {
      await importPath(path);
    } catch (e) {
      errors.push(`${pkg}: ${message(e)}`);
      continue;
    }
    const set = await setBackendQuietly(tf, 'tensorflow');
    if (set.ok) return { ok: true, detail: pkg };
    errors.push(`${pkg}: ${set.error}`);
  }
  return { ok: false, error: errors.join('; ') };
}

/** Installs the Dawn GPU object as navigator.gpu (Node 20 has no navigator; Node 21+ has one without gpu). */
function installNavigatorGpu(gpu: unknown): void {
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else if (g.navigator.gpu !== gpu) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
}

interface GpuLike {
  requestAdapter(o?: unknown): Promise<AdapterLike | null>;
}
interface AdapterLike {
  readonly info?: Record<string, unknown>;
  readonly isFallbackAdapter?: boolean;
  readonly limits: Record<string, number>;
  requestDevice(d?: unknown): Promise<unknown>;
}

/** The resolveFrom key whose Dawn the registered 'webgpu' backend uses (tests load stand-ins). */
let webgpuRegisteredFor: string | undefined;

/**
 * Registers tfjs's 'webgpu' backend with our own factory: the device is created from the
 * adapter we probed, with the adapter's workgroup-memory and buffer limits (the fused kernel
 * needs more than WebGPU's defaults), and a backend registered earlier from another Dawn is
 * replaced (tfjs keeps one 'webgpu' per process).
 */
function registerWebgpu(tf: Tf, key: string, gpu: GpuLike, WebGPUBackend: new (device: unknown, info: unknown) => unknown): void {
  if (webgpuRegisteredFor === key) return;
  const engine = tf.engine() as unknown as { registryFactory: Record<string, unknown> };
  if (engine.registryFactory.webgpu !== undefined) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('no WebGPU adapter');
      const l = adapter.limits;
      const device = await adapter.requestDevice({
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        },
      });
      return new WebGPUBackend(device, adapter.info) as never;
    },
    3,
  );
  webgpuRegisteredFor = key;
}

async function tryWebgpu(tf: Tf, resolve: Resolver, timeoutMs: number, key: string): Promise<Attempt> {
  const path = resolve('webgpu');
  if (!path) return { ok: false, error: 'webgpu (Dawn for Node): not installed' };
  const backendPath = resolve('@tensorflow/tfjs-backend-webgpu');
  if (!backendPath) return { ok: false, error: '@tensorflow/tfjs-backend-webgpu: not installed' };
  const code = `import(${JSON.stringify(pathToFileURL(path).href)}).then(async ({ create, globals }) => {
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    const info = a ? (a.info ?? {}) : {};
    console.log(JSON.stringify({ adapter: !!a, vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '', device: info.device ?? '', isFallbackAdapter: info.isFallbackAdapter === true || (a && a.isFallbackAdapter === true) }));
    process.exit(0);
  }).catch((e) => { console.error(String(e && e.message || e)); process.exit(3); });`;
  const p = probe(code, timeoutMs);
  if (!p.ok) return { ok: false, error: `webgpu: ${p.error}` };
  if (!p.value.adapter) return { ok: false, error: 'webgpu: no GPU adapter (Dawn found no usable Vulkan/Metal/D3D12 device)' };
  const adapter = classifyAdapter(p.value);
  try {
    const mod = await importPath(path);
    const create = mod.create as (opts: string[]) => GpuLike;
    Object.assign(globalThis, mod.globals as object);
    const gpu = create([]);
    if (!(await gpu.requestAdapter({ powerPreference: 'high-performance' }))) return { ok: false, error: 'webgpu: the probe found an adapter, this process did not', adapter };
    installNavigatorGpu(gpu);
    // the package registers its own factory only when navigator.gpu exists, hence the order;
    // ours replaces it (registerWebgpu)
    const backendMod = await importPath(backendPath);
    const WebGPUBackend = (backendMod.WebGPUBackend ?? (backendMod.default as Record<string, unknown> | undefined)?.WebGPUBackend) as (new (d: unknown, i: unknown) => unknown) | undefined;
    if (typeof WebGPUBackend !== 'function') return { ok: false, error: 'webgpu: @tensorflow/tfjs-backend-webgpu exports no WebGPUBackend', adapter };
    registerWebgpu(tf, key, gpu, WebGPUBackend);
  } catch (e) {
    return { ok: false, error: `webgpu: ${message(e)}`, adapter };
  }
  const set = await setBackendQuietly(tf, 'webgpu');
  return set.ok ? { ok: true, detail: `${adapterName(adapter)}${adapter.cpu ? ', a CPU adapter' : ''}`, adapter } : { ok: false, error: `webgpu: ${set.error}`, adapter };
}

let wasmPathsSet = false;

async function tryWasm(tf: Tf): Promise<Attempt> {
  const main = resolverFrom(undefined)('@tensorflow/tfjs-backend-wasm');
  if (!main) return { ok: false, error: '@tensorflow/tfjs-backend-wasm: not installed' };
  try {
    const mod = await importPath(main);
    const setWasmPaths = (mod.setWasmPaths ?? (mod.default as Record<string, unknown> | undefined)?.setWasmPaths) as ((prefix: string) => void) | undefined;
    // Under Node the .wasm binaries are read from the file system next to the bundle
    // (dist/); without an explicit prefix the loader looks beside the caller.
    if (!wasmPathsSet && setWasmPaths) {
      setWasmPaths(`${dirname(main)}/`);
      wasmPathsSet = true;
    }
  } catch (e) {
    return { ok: false, error: `wasm: ${message(e)}` };
  }
  const set = await setBackendQuietly(tf, 'wasm');
  if (!set.ok) return { ok: false, error: `wasm: ${set.error}` };
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  return { ok: true, detail: `${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded'}` };
}

async function tryCpu(tf: Tf): Promise<Attempt> {
  const set = await setBackendQuietly(tf, 'cpu');
  return set.ok ? { ok: true, detail: 'plain JavaScript kernels' } : { ok: false, error: `cpu: ${set.error}` };
}

async function attempt(tf: Tf, name: TfjsBackendName, options: LoadTfjsOptions): Promise<Attempt> {
  const native = name === 'tensorflow' || name === 'webgpu';
  const key = native && options.resolveFrom !== undefined ? `${name}|${options.resolveFrom}` : name;
  let p = attempts.get(key);
  if (!p) {
    const resolve = resolverFrom(options.resolveFrom);
    const timeoutMs = options.probeTimeoutMs ?? 30_000;
    p = (async (): Promise<Attempt> => {
      try {
        if (name === 'tensorflow') return await tryTensorflow(tf, resolve, timeoutMs);
        if (name === 'webgpu') return await tryWebgpu(tf, resolve, timeoutMs, key);
        if (name === 'wasm') return await tryWasm(tf);
        return await tryCpu(tf);
      } catch (e) {
        return { ok: false, error: `${name}: ${message(e)}` };
      }
    })();
    attempts.set(key, p);
    return p;
  }
  // initialised before: switching back is cheap, but the switch itself can still fail
  const prev = await p;
  if (!prev.ok) return prev;
  if (name === 'webgpu' && webgpuRegisteredFor !== key) {
    // another Dawn registered 'webgpu' since: load this one again
    attempts.delete(key);
    return attempt(tf, name, options);
  }
  const set = await setBackendQuietly(tf, name);
  return set.ok ? prev : { ok: false, error: `${name}: ${set.error}` };
}

/**
 * Loads tfjs and activates the best backend available, starting from `prefer`:
 * 'auto' = tensorflow (tfjs-node-gpu, then tfjs-node) > webgpu (Dawn, only with a hardware
 * GPU adapter: a CPU adapter such as SwiftShader is passed over) > wasm > cpu. A named
 * preference starts the chain at that backend (webgpu then takes a CPU adapter too) and
 * falls down it, unless options.strict; every candidate that failed or was passed over is
 * returned in `tried` with its reason. Throws only if tfjs itself cannot be loaded (the cpu
 * backend is part of it and cannot fail otherwise), or when strict and the preferred
 * backend cannot be had.
 *
 * The tfjs engine is global: the backend chosen here stays active for the process until
 * the next loadTfjs or tf.setBackend.
 */
export async function loadTfjs(prefer: TfjsPreference = 'auto', options: LoadTfjsOptions = {}): Promise<LoadedTfjs> {
  const say = options.verbose === true ? (l: string) => process.stderr.write(`${l}\n`) : typeof options.verbose === 'function' ? options.verbose : undefined;
  const tf = await importTf();
  const first = prefer === 'auto' ? 0 : TFJS_BACKEND_ORDER.indexOf(prefer);
  if (first < 0) throw new Error(`unknown tfjs backend preference '${String(prefer)}' (auto, ${TFJS_BACKEND_ORDER.join(', ')})`);
  const tried: Array<{ backend: string; error: string }> = [];
  let adapter: AdapterInfo | undefined;
  const chain = prefer !== 'auto' && options.strict ? [prefer] : TFJS_BACKEND_ORDER.slice(first);
  for (const name of chain) {
    const a = await attempt(tf, name, options);
    adapter ??= a.adapter;
    if (a.ok && name === 'webgpu' && prefer === 'auto' && a.adapter?.cpu) {
      // a CPU emulation of a GPU is slower than the wasm backend on the same cores
      const error = `webgpu: passed over, the adapter is a CPU implementation (${adapterName(a.adapter)})`;
      say?.(`tfjs: ${error}`);
      tried.push({ backend: name, error });
      continue;
    }
    if (a.ok) {
      // production mode: no debug checks, and no "install tfjs-node" banner from the cpu backend
      if (!say) tf.env().set('PROD', true);
      const passed = tried.length > 0 ? `; passed over ${tried.map((t) => t.backend).join(', ')}` : '';
      const reason = `${prefer === 'auto' ? 'best available' : `preferred ${prefer}`}: ${name} (${a.detail})${passed}`;
      say?.(`tfjs: ${reason}`);
      return { tf, backend: tf.getBackend(), reason, tried, adapter };
    }
    say?.(`tfjs: ${name} unavailable: ${a.error}`);
    tried.push({ backend: name, error: a.error });
  }
  if (prefer !== 'auto' && options.strict) throw new TfjsUnavailableError(prefer, tried, adapter);
  throw new Error(`no tfjs backend could be initialised: ${tried.map((t) => `${t.backend}: ${t.error}`).join('; ')}`);
}

/** The preferred tfjs backend (strict) could not be had. */
export class TfjsUnavailableError extends Error {
  readonly tried: ReadonlyArray<{ backend: string; error: string }>;
  readonly adapter: AdapterInfo | undefined;
  constructor(prefer: string, tried: ReadonlyArray<{ backend: string; error: string }>, adapter: AdapterInfo | undefined) {
    super(`tfjs backend ${prefer} is not available: ${tried.map((t) => t.error).join('; ')}`);
    this.name = 'TfjsUnavailableError';
    this.tried = tried;
    this.adapter = adapter;
  }
}
