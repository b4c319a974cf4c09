/** Spec texts for the identity tests: systems beyond the homonuclear pair. */
export const SPIN1_SYSTEM = (thermal: string, T: number, initial = 'thermal'): string => `
version: 1
spins:
  - { id: d, isotope: 2H }
  - { id: h, isotope: 1H }
parameters: { T: ${T}, B0: 9.4, tau: 2e-11 }
relaxation:
  - { type: dipolar, spins: [d, h], distance_m: 1.8e-10, tau_c: tau }
  - { type: csa, spin: d, delta_ppm: 40, eta: 0.3, tau_c: tau }
  - { type: random_field, spins: [d, h], rms_hz: 3000, tau_c: tau, kappa: 0.4 }
thermalization: ${thermal}
initial: ${initial}
observables:
  Mz: Iz(d) + Iz(h)
  Dz: Iz(d)
  Q: 3*Iz(d)*Iz(d) - 2*E
time: { log: [1e-3, 100], points: 25 }
`;

export const THREE_SPIN_SYSTEM = (thermal: string, T: number, initial = 'thermal'): string => `
version: 1
spins:
  - { id: h1, isotope: 1H }
  - { id: h2, isotope: 1H }
  - { id: c, isotope: 13C }
parameters: { T: ${T}, B0: 14.1, tau: 5e-11 }
hamiltonian:
  - { type: J, spins: [h1, h2], hz: 7 }
  - { type: J, spins: [h1, c], hz: 140 }
relaxation:
  - { type: dipolar, spins: [h1, h2], distance_m: 1.78e-10, tau_c: tau }
  - { type: dipolar, spins: [h1, c], distance_m: 1.09e-10, tau_c: tau }
  - { type: dipolar, spins: [h2, c], distance_m: 2.1e-10, tau_c: tau }
  - { type: csa, spin: c, delta_ppm: 50, eta: 0.2, tau_c: tau }
  - { type: random_field, spins: [h1, h2, c], rms_hz: 1500, tau_c: 60e-12, kappa: 0.3 }
thermalization: ${thermal}
initial: ${initial}
observables:
  Hz: Iz(h1) + Iz(h2)
  Cz: Iz(c)
  singlet: singlet(h1,h2)
time: { log: [1e-3, 100], points: 25 }
`;

/** Electron-proton pair for DNP at low temperature. */
export const ELECTRON_PROTON = (thermal: string, T: number, initial = 'thermal'): string => `
version: 1
spins:
  - { id: e, isotope: e }
  - { id: h, isotope: 1H }
parameters: { T: ${T}, B0: 3.4, tau: 1e-9 }
relaxation:
  - { type: dipolar, spins: [e, h], distance_m: 5e-10, tau_c: tau }
  - { type: random_field, spins: [e], rms_hz: 2e6, tau_c: 1e-11 }
thermalization: ${thermal}
initial: ${initial}
observables:
  Ez: Iz(e)
  Hz: Iz(h)
time: { log: [1e-9, 100], points: 25 }
`;

/** Like spins with a shift difference and a J coupling: H0's eigenbasis depends on B0. */
export const STRONG_COUPLING = (thermal: string, T: number, jHz: number, initial = 'singlet(a,b)'): string => `
version: 1
spins:
  - { id: a, isotope: 1H }
  - { id: b, isotope: 1H }
parameters: { T: ${T}, B0: 9.4, tau: 8e-12 }
hamiltonian:
  - { type: shift, spin: a, ppm: 1.0 }
${jHz === 0 ? '' : `  - { type: J, spins: [a, b], hz: ${jHz} }`}
relaxation:
  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau }
  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: 60e-12, kappa: 0.2 }
thermalization: ${thermal}
initial: ${initial}
observables:
  Mz: Iz(a) + Iz(b)
  singlet: singlet(a,b)
time: { stop: 30, points: 16 }
`;
