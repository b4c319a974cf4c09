#!/usr/bin/env bash
# Prepares what bench/gpu/run-device.sh needs on a device machine that receives the
# repository alone and reaches no registry: run it here, from anywhere, with network access.
#   .gl/    the Vulkan loader (libvulkan1, Debian amd64), as /work/.library/device/README.md says
#   .gpu/   node.xz (this machine's Node binary) and node_modules.tar.xz (the files a run loads,
#           traced on SwiftShader: tfjs, the WebGPU backend, Dawn, yaml, zod, piscina, ...)
#   dist/   the compiled engine, workers and bench/gpu/device-bench.js
# All three are git-ignored; name them in the device call's carry (64 MiB in all). Prints the
# carry list and the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

# 1. Vulkan loader
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 >/dev/null)
fi

# 2. the compiled engine and the device benchmark
npx tsc -p bench/gpu/tsconfig.device.json

# 3. Node (the device image has Python and CUDA, not Node)
mkdir -p .gpu
[ -f .gpu/node.xz ] || xz -T0 -6 -c "$(command -v node)" > .gpu/node.xz

# 4. the node_modules files a run opens, traced on SwiftShader with the smoke-sized benchmark
if [ ! -f .gpu/node_modules.tar.xz ]; then
  list=$(mktemp)
  vk=()
  if ! /sbin/ldconfig -p | grep -q 'libvulkan\.so\.1'; then vk=(LD_LIBRARY_PATH=/usr/lib/chromium); fi
  env "${vk[@]}" XDG_RUNTIME_DIR=/tmp VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
    strace -f -qq -e trace=openat -o "$list.trace" node dist/bench/gpu/device-bench.js --smoke >/dev/null
  grep -o '"[^"]*node_modules/[^"]*"' "$list.trace" | tr -d '"' | sed "s#^$root/##" | grep '^node_modules/' | sort -u |
    while read -r f; do [ -f "$f" ] && echo "$f"; done > "$list"
  # every package.json on the way (module resolution reads them) and the Dawn binary
  find node_modules -name package.json -maxdepth 3 >> "$list"
  echo node_modules/webgpu/dist/linux-x64/dawn.node >> "$list"
  sort -u "$list" -o "$list"
  tar -cJf .gpu/node_modules.tar.xz -T "$list"
  rm -f "$list" "$list.trace"
fi
du -sh .gl .gpu dist | sed 's/^/prepare: /' >&2
echo '{"carry": [".gl", ".gpu", "dist"]}'
