/**
 * Stiff generators over long times: an electron-1H pair at 1 K and 14.1 T under Bengs-Levitt
 * (electron rates ~1e9 /s, nuclear ~1e3 /s, |G t| up to 2e12). Reference values: the same
 * reduced generator exponentiated with mpmath at 50 digits (mp.expm(G t) rho0). Scaling and
 * squaring of the full generator drifted by 5e-5 here (round-off on the stationary
 * eigenvalue 1 grows with every squaring); propagating deviations from the steady state
 * keeps it at the level of the problem's conditioning.
 */
import { describe, expect, it } from 'vitest';
import { ELECTRON_PROTON } from '../helpers/systems.js';
import { pointOf } from '../helpers/problems.js';

// [t (s), <Ez>, <Hz>], 50-digit mpmath
const REFERENCE = [
  [0.001, -0.499999994193548, 0.00319209886064274],
  [1, -0.499999994193548, 0.00720247500709019],
  [1000, -0.499999994193548, 0.00720247500709019],
] as const;

describe('stiff propagation', () => {
  it('electron-1H, Bengs-Levitt, 1 K, 14.1 T, from a saturated state: <Ez>, <Hz> at 1 ms, 1 s, 1000 s', () => {
    const yaml = ELECTRON_PROTON('bengs-levitt', 1, 'saturated')
      .replace('B0: 3.4, tau: 1e-9', 'B0: 14.1, tau: 1e-9')
      .replace('distance_m: 5e-10', 'distance_m: 4.5e-10')
      .replace('rms_hz: 2e6, tau_c: 1e-11', 'rms_hz: 5e8, tau_c: 1e-11')
      .replace('time: { log: [1e-9, 100], points: 25 }', 'time: { values: [0.001, 1, 1000] }');
    const r = pointOf(yaml);
    REFERENCE.forEach(([t, ez, hz], k) => {
      expect(r.trajectories.t[k]).toBe(t);
      expect(Math.abs((r.trajectories.Ez?.[k] as number) - ez)).toBeLessThan(1e-9);
      expect(Math.abs((r.trajectories.Hz?.[k] as number) - hz) / hz).toBeLessThan(1e-6);
    });
  });
});
