import type { SpecV1 } from '../spec/schema.js';

/**
 * Units of a parameter, from the first field that uses it (a parameter is just a name in
 * the spec; its meaning comes from where it is used).
 */
export function parameterUnits(spec: SpecV1): Record<string, { units: string; longName: string }> {
  const out: Record<string, { units: string; longName: string }> = {
    T: { units: 'K', longName: 'lattice temperature' },
    B0: { units: 'T', longName: 'static magnetic field' },
  };
  const note = (v: unknown, units: string, longName: string): void => {
    if (typeof v === 'string' && !(v in out)) out[v] = { units, longName };
  };
  for (const h of spec.hamiltonian ?? []) {
    if (h.type === 'J') note(h.hz, 'Hz', `J coupling ${h.spins.join('-')}`);
    else note(h.ppm, 'ppm', `chemical shift of ${h.spin}`);
  }
  spec.relaxation.forEach((m, i) => {
    const who = 'spins' in m ? m.spins.join('-') : m.spin;
    note(m.tau_c, 's', `correlation time of ${m.type} ${who}`);
    if (m.spectral_density) {
      note(m.spectral_density.S2, '1', `order parameter S2 of ${m.type} ${who}`);
      note(m.spectral_density.tau_e, 's', `internal correlation time of ${m.type} ${who}`);
    }
    if (m.type === 'dipolar') {
      note(m.b_hz, 'Hz', `dipolar coupling b/2pi ${who}`);
      note(m.distance_m, 'm', `internuclear distance ${who}`);
    } else if (m.type === 'random_field') {
      note(m.rms_hz, 'Hz', `random field rms/2pi on ${who}`);
      note(m.kappa, '1', `random-field correlation kappa ${who}`);
    } else if (m.type === 'csa') {
      note(m.delta_ppm, 'ppm', `CSA reduced anisotropy delta of ${who}`);
      note(m.delta_sigma_ppm, 'ppm', `CSA anisotropy Delta-sigma of ${who}`);
      note(m.eta, '1', `CSA asymmetry of ${who}`);
    } else if (m.type === 'quadrupolar') {
      note(m.cq_hz, 'Hz', `quadrupolar coupling constant Cq of ${who}`);
      note(m.eta, '1', `EFG asymmetry of ${who}`);
    }
    void i;
  });
  for (const c of spec.cross_correlations ?? []) {
    note(c.angle_deg, 'degree', `angle between ${c.between.join(' and ')}`);
    note(c.p2, '1', `orientation factor P2 of ${c.between.join(' and ')}`);
  }
  return out;
}
