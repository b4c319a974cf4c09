#!/usr/bin/env bash
# The GPU benchmark on a device machine (NVIDIA, Vulkan): the standard benchmark and the
# realistic-system benchmark (dnp-e3h) on the fused WebGPU path and on the machine's float64
# worker pool (bench/gpu/device-bench.ts). Prints one JSON line on stdout (progress on
# stderr) and finishes in under 8 minutes: the benchmark stops starting runs after
# RELAXMAP_BUDGET_S (default 300 s) and the whole command is cut at 450 s.
#
# Needs what bench/gpu/prepare.sh leaves (carry .gl .gpu dist): the Vulkan loader when the
# machine has none, Node when it has none, node_modules when absent. Anywhere else (no GPU)
# it runs on whatever adapter Dawn finds: RELAXMAP_SMOKE=1 with SwiftShader checks it.
set -uo pipefail
cd "$(dirname "$0")/../.."
say() { echo "run-device: $*" >&2; }
fail() { printf '{"error": %s}\n' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/')"; exit 1; }

# Vulkan loader: the system's (or one on LD_LIBRARY_PATH), else the carried Debian package unpacked into /
has_vulkan() {
  /sbin/ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' && return 0
  local d
  for d in ${LD_LIBRARY_PATH//:/ }; do [ -e "$d/libvulkan.so.1" ] && return 0; done
  return 1
}
if ! has_vulkan; then
  if ls .gl/*.deb >/dev/null 2>&1; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    /sbin/ldconfig
    say "Vulkan loader unpacked from .gl"
  else
    say "no libvulkan.so.1 and no .gl/*.deb: Dawn will find no Vulkan device"
  fi
fi
# the NVIDIA driver's ICD where the loader does not look by itself
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] &&
  ! ls /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

# Node and the modules
node=$(command -v node || true)
if [ -z "$node" ]; then
  [ -f .gpu/node.xz ] || fail "no node and no .gpu/node.xz (run bench/gpu/prepare.sh and carry .gpu)"
  xz -dc .gpu/node.xz > /tmp/relaxmap-node && chmod +x /tmp/relaxmap-node && node=/tmp/relaxmap-node
fi
if [ ! -d node_modules/@tensorflow/tfjs-backend-webgpu ]; then
  [ -f .gpu/node_modules.tar.xz ] || fail "no node_modules and no .gpu/node_modules.tar.xz (run bench/gpu/prepare.sh and carry .gpu)"
  tar -xJf .gpu/node_modules.tar.xz
fi
[ -f dist/bench/gpu/device-bench.js ] || fail "dist/bench/gpu/device-bench.js missing (run bench/gpu/prepare.sh and carry dist)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2

args=(--budget "${RELAXMAP_BUDGET_S:-300}")
[ "${RELAXMAP_SMOKE:-0}" = 1 ] && args+=(--smoke)
out=$(timeout 450 "$node" dist/bench/gpu/device-bench.js "${args[@]}")
rc=$?
line=$(printf '%s\n' "$out" | tail -n 1)
[ $rc -eq 0 ] && [ -n "$line" ] || fail "device-bench exited $rc"
printf '%s\n' "$line"
