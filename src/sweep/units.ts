import type { SpecV1 } from '../spec/schema.js';

/**
 * Units of a parameter, from the first field that uses it (a parameter is just a name in
 * the spec; its meaning comes from where it is used).
 */
export function parameterUnits(spec: SpecV1): Record<string, { units: string; longName: string }> {
  // keyed by user-named parameters: no prototype (`constructor` is a name like any other)
  const out: Record<string, { units: string; longName: string }> = Object.assign(Object.create(null) as Record<string, { units: string; longName: string }>, {
    T: { units: 'K', longName: 'lattice temperature' },
    B0: { units: 'T', longName: 'static magnetic field' },
  });
  const note = (v: unknown, units: string, longName: string): void => {
    if (typeof v === 'string' && !(v in out)) out[v] = { units, longName };
  };
  for (const h of spec.hamiltonian ?? []) {
    if (h.type === 'J') note(h.hz, 'Hz', `J coupling ${h.spins.join('-')}`);
    else if (h.type === 'shift') note(h.ppm, 'ppm', `chemical shift of ${h.spin}`);
    else if (h.type === 'irradiation') {
      note(h.offset_hz, 'Hz', `irradiation offset nu_irr - nu_0(${h.spins[0]})`);
      note(h.nutation_hz, 'Hz', `nutation frequency w1/2pi on ${h.spins.join(',')}`);
    } else if (h.type === 'hyperfine') {
      const who = h.spins.join('-');
      note(h.a_hz, 'Hz', `secular hyperfine A ${who}`);
      note(h.b_hz, 'Hz', `pseudo-secular hyperfine B ${who}`);
      note(h.distance_m, 'm', `electron-nucleus distance ${who}`);
      note(h.theta_deg, 'degree', `angle between B0 and the ${who} vector`);
      note(h.fermi_hz, 'Hz', `isotropic (Fermi contact) hyperfine ${who}`);
    } else note(h.d_hz, 'Hz', `secular dipolar coupling ${h.spins.join('-')}`);
  }
  spec.relaxation.forEach((m, i) => {
    if (m.type === 't1t2') {
      note(m.t1_s, 's', `T1 of ${m.spins.join(',')}`);
      note(m.t2_s, 's', `T2 of ${m.spins.join(',')}`);
      return;
    }
    const who = 'spins' in m ? m.spins.join('-') : m.spin;
    note(m.tau_c, 's', `correlation time of ${m.type} ${who}`);
    if (m.spectral_density) {
      note(m.spectral_density.S2, '1', `order parameter S2 of ${m.type} ${who}`);
      note(m.spectral_density.tau_e, 's', `internal correlation time of ${m.type} ${who}`);
      note(m.spectral_density.exponent, '1', `phonon-direct field exponent of ${m.type} ${who}`);
      note(m.spectral_density.nu_ref_hz, 'Hz', `phonon-direct reference frequency of ${m.type} ${who}`);
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
