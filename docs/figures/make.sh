#!/usr/bin/env bash
# Regenerate the README figures from the shipped example sweeps (a minute or two).
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in paper-figures field-map paper-eq77 dnp-lowT solid-effect; do
  node bin/relaxmap.js run "sweeps/$s.yaml" --out "$tmp/$s" --quiet
  node bin/relaxmap.js plot "$tmp/$s" --format png > /dev/null
done
cp "$tmp/paper-figures/figures/contributions_Mz.png" docs/figures/fig1-contributions-Mz.png
cp "$tmp/paper-figures/figures/contributions_singlet.png" docs/figures/fig2-contributions-singlet.png
cp "$tmp/field-map/figures/rate_Mz.png" docs/figures/field-map-rate-Mz.png
cp "$tmp/paper-eq77/figures/traj_Mz.png" docs/figures/eq77-trajectories.png
cp "$tmp/dnp-lowT/figures/dnp_profile_Hz.png" docs/figures/dnp-lowT-profile-Hz.png
cp "$tmp/solid-effect/figures/dnp_profile_Hz.png" docs/figures/solid-effect-profile-Hz.png
echo "figures written to docs/figures/"
