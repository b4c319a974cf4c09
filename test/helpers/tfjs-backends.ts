/**
 * The tfjs backends the float32 tests run on: cpu and wasm always, webgpu where a Vulkan
 * driver is configured: .ci/run exports the SwiftShader one that Debian's chromium ships
 * (VK_ICD_FILENAMES, plus RELAXMAP_WEBGPU=required so that a broken environment fails
 * instead of being skipped). Elsewhere (a developer's plain `npx vitest run` without that
 * environment) the webgpu cases are not generated: there is no adapter to run them on.
 */
export const WEBGPU_TESTS = process.env.RELAXMAP_WEBGPU === 'required' || (process.env.VK_ICD_FILENAMES ?? '') !== '';

export type TestBackend = 'cpu' | 'wasm' | 'webgpu';

export const TFJS_TEST_BACKENDS: readonly TestBackend[] = WEBGPU_TESTS ? ['cpu', 'wasm', 'webgpu'] : ['cpu', 'wasm'];
