#!/usr/bin/env bash
# Regenerate the README figures from the shipped example sweeps (about a minute).
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in paper-figures field-map paper-eq77 dnp-lowT deuterium; do
  node bin/relaxmap.js run "sweeps/$s.yaml" --out "$tmp/$s" --quiet
  node bin/relaxmap.js plot "$tmp/$s" --format png > /dev/null
done
# the TROSY line over the field at one correlation time (lines instead of a heatmap)
node bin/relaxmap.js run sweeps/nh-trosy.yaml --out "$tmp/nh-trosy" --quiet
node bin/relaxmap.js plot "$tmp/nh-trosy" --format png --at tau_c=1e-8 > /dev/null
cp "$tmp/paper-figures/figures/contributions_Mz.png" docs/figures/fig1-contributions-Mz.png
cp "$tmp/paper-figures/figures/contributions_singlet.png" docs/figures/fig2-contributions-singlet.png
cp "$tmp/field-map/figures/rate_Mz.png" docs/figures/field-map-rate-Mz.png
cp "$tmp/field-map/figures/nmrd_Mz.png" docs/figures/field-map-nmrd-Mz.png
cp "$tmp/paper-eq77/figures/traj_Mz.png" docs/figures/eq77-trajectories.png
cp "$tmp/dnp-lowT/figures/ss_over_boltzmann_Hz.png" docs/figures/dnp-ss-over-boltzmann-Hz.png
cp "$tmp/nh-trosy/figures/rate_trosy.png" docs/figures/nh-trosy-rate.png
cp "$tmp/deuterium/figures/rate_Dz.png" docs/figures/deuterium-R1.png
echo "figures written to docs/figures/"
