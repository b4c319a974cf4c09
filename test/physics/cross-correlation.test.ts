/**
 * Cross-correlated relaxation (DD-CSA, DD-DD, CSA-CSA, quadrupolar-DD/CSA) against Goldman's
 * closed forms for the IS pair and against an independent Cartesian Redfield computation
 * (test/helpers/cartesian-redfield.ts: physical Hamiltonians and isotropic averaging of
 * Cartesian tensors, no spherical tensors, no strength conventions). Semiclassical.
 */
import { describe, expect, it } from 'vitest';
import { assembleGenerator } from '../../src/physics/assemble-generator.js';
import { HBAR } from '../../src/physics/constants.js';
import { operatorFromExpression } from '../../src/physics/operator-expression.js';
import { ISOTOPES } from '../../src/spin/isotopes.js';
import { CartesianRedfield, cscale, projectedRate, type CM, type RefInteraction, type RefSpin, type Vec3 } from '../helpers/cartesian-redfield.js';
import { pointOf, problemFromYaml, relErr } from '../helpers/problems.js';
import { SpecError, type SpecIssue } from '../../src/spec/errors.js';
import { parseSpecText } from '../../src/spec/load.js';

const gH = ISOTOPES['1H']!.gamma;
const gN = ISOTOPES['15N']!.gamma;
const gC = ISOTOPES['13C']!.gamma;
const g2H = ISOTOPES['2H']!.gamma;
const deg = (x: number): number => (x * Math.PI) / 180;
const P2 = (thetaDeg: number): number => 1.5 * Math.cos(deg(thetaDeg)) ** 2 - 0.5;
const dipolar = (g1: number, g2: number, r: number): number => (1e-7 * g1 * g2 * HBAR) / r ** 3;
const inPlane = (thetaDeg: number): Vec3 => [Math.sin(deg(thetaDeg)), 0, Math.cos(deg(thetaDeg))];

/** The engine's semiclassical generator, read as rates between operator expressions. */
function engineRates(yaml: string): (from: string, to?: string) => number {
  const { problem, params } = problemFromYaml(yaml);
  const model = problem.model;
  const g = assembleGenerator(model, params, 'semiclassical');
  const n = model.basis.size;
  const vec = (e: string): Float64Array => model.basis.vector(operatorFromExpression(e, model.system), e);
  return (from, to = from) => {
    const a = vec(from);
    const b = vec(to);
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      den += (b[i] as number) ** 2;
      for (let j = 0; j < n; j++) num += (b[i] as number) * (g[i * n + j] as number) * (a[j] as number);
    }
    return -num / den;
  };
}

/** Operators as (engine expression, reference matrix) pairs. */
type Ops = ReadonlyArray<readonly [string, (r: CartesianRedfield) => CM]>;

/** Every rate between every pair of operators, engine against reference, relative to the largest. */
function compareAll(yaml: string, ref: CartesianRedfield, ops: Ops): number {
  const eng = engineRates(yaml);
  const mats = ops.map(([, m]) => m(ref));
  const got: number[] = [];
  const want: number[] = [];
  ops.forEach(([ea], i) => {
    const g = ref.apply(mats[i] as CM);
    ops.forEach(([eb], j) => {
      got.push(eng(ea, eb));
      want.push(projectedRate(g, mats[j] as CM));
    });
  });
  const scale = Math.max(...want.map(Math.abs));
  return Math.max(...got.map((g, k) => Math.abs(g - (want[k] as number)) / scale));
}

describe('DD-CSA cross-correlation of an X-1H pair (TROSY)', () => {
  const tau = 5e-9;
  const j = (w: number): number => tau / (1 + w * w * tau * tau);
  const cases = [
    { X: '15N', gX: gN, r: 1.02e-10, dsigma: -160, theta: 17 },
    { X: '13C', gX: gC, r: 1.09e-10, dsigma: 150, theta: 17 },
  ] as const;
  for (const c of cases) {
    for (const B0 of [14.1, 18.8, 23.5]) {
      const yaml = `
version: 1
spins: [{ id: x, isotope: ${c.X} }, { id: h, isotope: 1H }]
parameters: { T: 300, B0: ${B0} }
relaxation:
  - { type: dipolar, spins: [x, h], distance_m: ${c.r}, tau_c: ${tau}, label: DD }
  - { type: csa, spin: x, delta_sigma_ppm: ${c.dsigma}, tau_c: ${tau}, label: CSA }
cross_correlations: [{ between: [DD, CSA], angle_deg: ${c.theta} }]
thermalization: semiclassical
observables: { z: Iz(x) }
`;
      const eng = engineRates(yaml);
      // Goldman, J. Magn. Reson. 60, 437 (1984), in this notation: d = (mu0/4pi) gamma_X gamma_H hbar / r^3
      // (signed), c = gamma_X B0 Delta-sigma (shielding), j(w) = tau / (1 + w^2 tau^2):
      //   eta_xy = -(1/15) d c P2 [4 j(0) + 3 j(w_X)],  eta_z = -(2/5) d c P2 j(w_X)
      const d = dipolar(c.gX, gH, c.r);
      const cc = c.gX * B0 * c.dsigma * 1e-6;
      const wX = -c.gX * B0;
      const etaXY = -(1 / 15) * d * cc * P2(c.theta) * (4 * j(0) + 3 * j(wX));
      const etaZ = -(2 / 5) * d * cc * P2(c.theta) * j(wX);
      it(`${c.X}-1H at ${B0} T: eta_xy = ${etaXY.toPrecision(5)} 1/s and eta_z = ${etaZ.toPrecision(5)} 1/s (Goldman) to 1e-9`, () => {
        expect(relErr(eng('Ix(x)', '2*Ix(x)*Iz(h)'), etaXY)).toBeLessThan(1e-9);
        expect(relErr(eng('2*Ix(x)*Iz(h)', 'Ix(x)'), etaXY)).toBeLessThan(1e-9);
        expect(relErr(eng('Iz(x)', '2*Iz(x)*Iz(h)'), etaZ)).toBeLessThan(1e-9);
      });
      it(`${c.X}-1H at ${B0} T: the 1H-alpha line relaxes faster than the 1H-beta line by 2 eta_xy`, () => {
        const alpha = eng('Ix(x) + 2*Ix(x)*Iz(h)');
        const beta = eng('Ix(x) - 2*Ix(x)*Iz(h)');
        expect(relErr(alpha - beta, 2 * etaXY)).toBeLessThan(1e-9);
        // the narrow (TROSY) line: 1H-beta for 15N (Delta-sigma < 0, gamma_N < 0), 1H-alpha for 13C (Delta-sigma > 0)
        if (c.X === '15N') expect(beta).toBeLessThan(alpha);
        else expect(alpha).toBeLessThan(beta);
      });
    }
    it(`${c.X}-1H at 18.8 T: the whole generator on 9 product operators equals the Cartesian Redfield computation to 1e-9`, () => {
      const B0 = 18.8;
      const yaml = `
version: 1
spins: [{ id: x, isotope: ${c.X} }, { id: h, isotope: 1H }]
parameters: { T: 300, B0: ${B0} }
relaxation:
  - { type: dipolar, spins: [x, h], b_hz: ${Math.abs(dipolar(c.gX, gH, c.r) / (2 * Math.PI))}, tau_c: ${tau}, label: DD }
  - { type: csa, spin: x, delta_ppm: ${(2 / 3) * c.dsigma}, tau_c: ${tau}, label: CSA }
cross_correlations: [{ between: [CSA, DD], p2: ${P2(c.theta)} }]
thermalization: semiclassical
observables: { z: Iz(x) }
`;
      const spins: RefSpin[] = [
        { I: 0.5, omega: -c.gX * B0 },
        { I: 0.5, omega: -gH * B0 },
      ];
      const inter: RefInteraction[] = [
        { kind: 'dipolar', i: 0, j: 1, d: dipolar(c.gX, gH, c.r), axis: [0, 0, 1] },
        { kind: 'csa', i: 0, gammaB0: c.gX * B0, deltaSigma: c.dsigma * 1e-6, axis: inPlane(c.theta) },
      ];
      const ref = new CartesianRedfield(spins, inter, tau, [[0, 1]]);
      const ops: Ops = [
        ['Iz(x)', (r) => r.op(0, 'z')],
        ['Iz(h)', (r) => r.op(1, 'z')],
        ['2*Iz(x)*Iz(h)', (r) => cscale(r.product(r.op(0, 'z'), r.op(1, 'z')), 2)],
        ['Ix(x)', (r) => r.op(0, 'x')],
        ['2*Ix(x)*Iz(h)', (r) => cscale(r.product(r.op(0, 'x'), r.op(1, 'z')), 2)],
        ['Iy(x)', (r) => r.op(0, 'y')],
        ['2*Iy(x)*Iz(h)', (r) => cscale(r.product(r.op(0, 'y'), r.op(1, 'z')), 2)],
        ['Ix(h)', (r) => r.op(1, 'x')],
        ['2*Iz(x)*Ix(h)', (r) => cscale(r.product(r.op(0, 'z'), r.op(1, 'x')), 2)],
      ];
      expect(compareAll(yaml, ref, ops)).toBeLessThan(1e-9);
    });
  }
});

describe('DD-DD cross-correlation in a 13CH2 group (H-C-H 109.5 degrees)', () => {
  const r = 1.09e-10;
  const hch = 109.5;
  const rHH = 2 * r * Math.sin(deg(hch / 2));
  const tau = 1e-9;
  const B0 = 14.1;
  const yaml = (cross: boolean): string => `
version: 1
spins: [{ id: c, isotope: 13C }, { id: h1, isotope: 1H }, { id: h2, isotope: 1H }]
parameters: { T: 300, B0: ${B0} }
relaxation:
  - { type: dipolar, spins: [c, h1], distance_m: ${r}, tau_c: ${tau}, label: CH1 }
  - { type: dipolar, spins: [c, h2], distance_m: ${r}, tau_c: ${tau}, label: CH2 }
  - { type: dipolar, spins: [h1, h2], distance_m: ${rHH}, tau_c: ${tau}, label: HH }
${
  cross
    ? `cross_correlations:
  - { between: [CH1, CH2], angle_deg: ${hch} }
  - { between: [CH1, HH], angle_deg: ${90 - hch / 2} }
  - { between: [CH2, HH], angle_deg: ${90 - hch / 2} }`
    : ''
}
thermalization: semiclassical
observables: { z: Iz(c) }
`;
  const spins: RefSpin[] = [
    { I: 0.5, omega: -gC * B0 },
    { I: 0.5, omega: -gH * B0 },
    { I: 0.5, omega: -gH * B0 },
  ];
  const h1 = inPlane(hch / 2);
  const h2 = inPlane(-hch / 2);
  const inter: RefInteraction[] = [
    { kind: 'dipolar', i: 0, j: 1, d: dipolar(gC, gH, r), axis: h1 },
    { kind: 'dipolar', i: 0, j: 2, d: dipolar(gC, gH, r), axis: h2 },
    { kind: 'dipolar', i: 1, j: 2, d: dipolar(gH, gH, rHH), axis: [h1[0] - h2[0], h1[1] - h2[1], h1[2] - h2[2]] },
  ];
  const z = (r: CartesianRedfield, s: number): CM => r.op(s, 'z');
  const ops: Ops = [
    ['Iz(c)', (r) => z(r, 0)],
    ['Iz(h1) + Iz(h2)', (r) => z(r, 1)], // replaced below (sum)
    ['2*Iz(c)*Iz(h1)', (r) => cscale(r.product(z(r, 0), z(r, 1)), 2)],
    ['2*Iz(h1)*Iz(h2)', (r) => cscale(r.product(z(r, 1), z(r, 2)), 2)],
    ['4*Iz(c)*Iz(h1)*Iz(h2)', (r) => cscale(r.product(z(r, 0), z(r, 1), z(r, 2)), 4)],
    ['Ix(c)', (r) => r.op(0, 'x')],
    ['2*Ix(c)*Iz(h1)', (r) => cscale(r.product(r.op(0, 'x'), z(r, 1)), 2)],
    ['4*Ix(c)*Iz(h1)*Iz(h2)', (r) => cscale(r.product(r.op(0, 'x'), z(r, 1), z(r, 2)), 4)],
    ['Ix(h1)', (r) => r.op(1, 'x')],
    ['2*Ix(h1)*Iz(c)', (r) => cscale(r.product(r.op(1, 'x'), z(r, 0)), 2)],
  ];
  // the 1H sum as one operator in the reference
  const opsWithSum: Ops = ops.map((o, k) => (k === 1 ? (['Iz(h1) + Iz(h2)', (r: CartesianRedfield) => ({ n: r.dim, re: z(r, 1).re.map((v, i) => v + (z(r, 2).re[i] as number)), im: new Float64Array(r.dim * r.dim) })] as const) : o));

  it('the generator on 10 product operators (13C and 1H longitudinal, transverse, multi-spin orders) equals the Cartesian Redfield computation to 1e-9', () => {
    const ref = new CartesianRedfield(spins, inter, tau, [
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    expect(compareAll(yaml(true), ref, opsWithSum)).toBeLessThan(1e-9);
  });

  it('without cross_correlations the generator equals the reference with independent baths', () => {
    const ref = new CartesianRedfield(spins, inter, tau, []);
    expect(compareAll(yaml(false), ref, opsWithSum)).toBeLessThan(1e-9);
  });

  it('the DD-DD cross-correlation is what converts 13C z-magnetisation into 4 CzH1zH2z, and it changes the 13C multiplet rates', () => {
    const on = engineRates(yaml(true));
    const off = engineRates(yaml(false));
    const conversion = on('Iz(c)', '4*Iz(c)*Iz(h1)*Iz(h2)');
    expect(Math.abs(off('Iz(c)', '4*Iz(c)*Iz(h1)*Iz(h2)'))).toBeLessThan(1e-12 * on('Iz(c)'));
    expect(Math.abs(conversion)).toBeGreaterThan(0.05 * on('Iz(c)'));
    // the outer and inner lines of the 13C triplet: Cx (1/2 +- H1z)(1/2 +- H2z)
    const outer = on('Ix(c) + 2*Ix(c)*Iz(h1) + 2*Ix(c)*Iz(h2) + 4*Ix(c)*Iz(h1)*Iz(h2)');
    const outerOff = off('Ix(c) + 2*Ix(c)*Iz(h1) + 2*Ix(c)*Iz(h2) + 4*Ix(c)*Iz(h1)*Iz(h2)');
    expect(Math.abs(outer - outerOff)).toBeGreaterThan(0.05 * outerOff);
  });
});

describe('CSA-CSA and quadrupolar cross-correlations', () => {
  it('15N-13C pair with both CSAs and their dipole (coplanar axes at 0, 20 and -40 degrees) equals the Cartesian reference to 1e-9', () => {
    const B0 = 18.8;
    const tau = 8e-9;
    const r = 1.33e-10;
    const yaml = `
version: 1
spins: [{ id: n, isotope: 15N }, { id: c, isotope: 13C }]
parameters: { T: 300, B0: ${B0} }
relaxation:
  - { type: dipolar, spins: [n, c], distance_m: ${r}, tau_c: ${tau} }
  - { type: csa, spin: n, delta_sigma_ppm: -160, tau_c: ${tau} }
  - { type: csa, spin: c, delta_ppm: 80, tau_c: ${tau} }
cross_correlations:
  - { between: ["csa(n)", "csa(c)"], angle_deg: 60 }
  - { between: ["dipolar(n,c)", "csa(n)"], angle_deg: 20 }
  - { between: ["dipolar(n,c)", "csa(c)"], angle_deg: 40 }
thermalization: semiclassical
observables: { z: Iz(n) }
`;
    const spins: RefSpin[] = [
      { I: 0.5, omega: -gN * B0 },
      { I: 0.5, omega: -gC * B0 },
    ];
    const inter: RefInteraction[] = [
      { kind: 'dipolar', i: 0, j: 1, d: dipolar(gN, gC, r), axis: [0, 0, 1] },
      { kind: 'csa', i: 0, gammaB0: gN * B0, deltaSigma: -160e-6, axis: inPlane(20) },
      { kind: 'csa', i: 1, gammaB0: gC * B0, deltaSigma: 1.5 * 80e-6, axis: inPlane(-40) },
    ];
    const ref = new CartesianRedfield(spins, inter, tau, [
      [1, 2],
      [0, 1],
      [0, 2],
    ]);
    const ops: Ops = [
      ['Iz(n)', (q) => q.op(0, 'z')],
      ['Iz(c)', (q) => q.op(1, 'z')],
      ['2*Iz(n)*Iz(c)', (q) => cscale(q.product(q.op(0, 'z'), q.op(1, 'z')), 2)],
      ['2*Ix(n)*Ix(c)', (q) => cscale(q.product(q.op(0, 'x'), q.op(1, 'x')), 2)],
      ['2*Iy(n)*Iy(c)', (q) => cscale(q.product(q.op(0, 'y'), q.op(1, 'y')), 2)],
      ['Ix(n)', (q) => q.op(0, 'x')],
      ['2*Ix(n)*Iz(c)', (q) => cscale(q.product(q.op(0, 'x'), q.op(1, 'z')), 2)],
      ['Ix(c)', (q) => q.op(1, 'x')],
    ];
    expect(compareAll(yaml, ref, ops)).toBeLessThan(1e-9);
  });

  it('2H-1H: quadrupolar x dipolar (C-D bond, 0 degrees) and quadrupolar x CSA (30 degrees) equal the Cartesian reference to 1e-9', () => {
    const B0 = 11.7;
    const tau = 2e-10;
    const r = 1.8e-10;
    const yaml = `
version: 1
spins: [{ id: d, isotope: 2H }, { id: h, isotope: 1H }]
parameters: { T: 300, B0: ${B0} }
relaxation:
  - { type: quadrupolar, spin: d, cq_hz: 170e3, tau_c: ${tau}, label: Q }
  - { type: dipolar, spins: [d, h], distance_m: ${r}, tau_c: ${tau}, label: DD }
  - { type: csa, spin: d, delta_ppm: 6, tau_c: ${tau}, label: CSA }
cross_correlations:
  - { between: [Q, DD], angle_deg: 0 }
  - { between: [Q, CSA], angle_deg: 30 }
  - { between: [DD, CSA], angle_deg: 30 }
thermalization: semiclassical
observables: { z: Iz(d) }
`;
    const spins: RefSpin[] = [
      { I: 1, omega: -g2H * B0 },
      { I: 0.5, omega: -gH * B0 },
    ];
    const inter: RefInteraction[] = [
      { kind: 'quadrupolar', i: 0, cqHz: 170e3, eta: 0, axis: [0, 0, 1], xAxis: [1, 0, 0] },
      { kind: 'dipolar', i: 0, j: 1, d: dipolar(g2H, gH, r), axis: [0, 0, 1] },
      { kind: 'csa', i: 0, gammaB0: g2H * B0, deltaSigma: 1.5 * 6e-6, axis: inPlane(30) },
    ];
    const ref = new CartesianRedfield(spins, inter, tau, [
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    const ops: Ops = [
      ['Iz(d)', (q) => q.op(0, 'z')],
      ['3*Iz(d)*Iz(d) - 2*E', (q) => ({ n: q.dim, re: q.product(q.op(0, 'z'), q.op(0, 'z')).re.map((v, i) => 3 * v - (i % (q.dim + 1) === 0 ? 2 : 0)), im: new Float64Array(q.dim * q.dim) })],
      ['Iz(h)', (q) => q.op(1, 'z')],
      ['2*Iz(d)*Iz(h)', (q) => cscale(q.product(q.op(0, 'z'), q.op(1, 'z')), 2)],
      ['Ix(d)', (q) => q.op(0, 'x')],
      ['2*Ix(d)*Iz(h)', (q) => cscale(q.product(q.op(0, 'x'), q.op(1, 'z')), 2)],
      ['Ix(d)*Iz(d) + Iz(d)*Ix(d)', (q) => ({ n: q.dim, re: q.product(q.op(0, 'x'), q.op(0, 'z')).re.map((v, i) => v + (q.product(q.op(0, 'z'), q.op(0, 'x')).re[i] as number)), im: new Float64Array(q.dim * q.dim) })],
      ['Ix(h)', (q) => q.op(1, 'x')],
    ];
    expect(compareAll(yaml, ref, ops)).toBeLessThan(1e-9);
  });
});

describe('cross-correlation off, signs and refusals', () => {
  const NH = `
version: 1
spins: [{ id: n, isotope: 15N }, { id: h, isotope: 1H }]
parameters: { T: 300, B0: 18.8, tau: 5e-9 }
hamiltonian: [{ type: J, spins: [n, h], hz: -92 }]
relaxation:
  - { type: dipolar, spins: [n, h], b_hz: 11480, tau_c: tau, label: DD }
  - { type: csa, spin: n, delta_ppm: -106.66666666666667, eta: 0.1, tau_c: tau, label: CSA }
thermalization: rodin-abergel
initial: { deviation: Ix(n) }
observables: { Nx: Ix(n), NxHz: 2*Ix(n)*Iz(h), Nz: Iz(n), Hz: Iz(h) }
time: { values: [0, 0.01, 0.05] }
`;
  const CH2 = `
version: 1
spins: [{ id: c, isotope: 13C }, { id: h1, isotope: 1H }, { id: h2, isotope: 1H }]
parameters: { T: 300, B0: 14.1, tau: 1e-9 }
relaxation:
  - { type: dipolar, spins: [c, h1], distance_m: 1.09e-10, tau_c: tau }
  - { type: dipolar, spins: [c, h2], distance_m: 1.09e-10, tau_c: tau }
  - { type: dipolar, spins: [h1, h2], distance_m: 1.78e-10, tau_c: tau }
  - { type: csa, spin: c, delta_ppm: 30, tau_c: tau }
thermalization: bengs-levitt
initial: inverted
observables: { Cz: Iz(c), Hz: Iz(h1) + Iz(h2) }
time: { values: [0, 0.1, 1] }
`;
  // Computed by relaxmap ca5d590, before cross-correlations existed; bit-identical to this
  // version when recorded (1e-13 leaves room for a reordering of float sums elsewhere).
  const BEFORE = {
    nh: {
      rates: { Nx: 9.011867775378388, NxHz: 9.011867775378388, Nz: 1.667859402749896, Hz: 0.04621590877285225 },
      eigenrates: [0.045762465998395896, 1.6683128455156717, 9.011867186499444, 9.011868364257321],
      traj: { Nx: [1.0000000000000004, 0.9138227284068834, 0.6372499024733518], Nz: [0, -4.508262131488745e-8, -2.1811547814836084e-7] },
    },
    ch2: {
      rates: { Cz: 8.498511727398546, Hz: 1.9401928794855525 },
      eigenrates: [1.9102402652229653, 3.0860401366974988, 8.337054802629309, 8.528464324763236, 8.886722506158558, 16.965362898825042],
      traj: { Cz: [-0.00000603858326942423, 0.000002692333510959953, 0.000006702036123499196], Hz: [-0.00004801982211531508, -0.00003068746204852536, 0.00003403540736573503] },
    },
  };
  for (const [name, yaml] of [
    ['nh', NH],
    ['ch2', CH2],
  ] as const) {
    it(`${name}: without cross_correlations (or with an empty list) the numbers of the version before them, to 1e-13`, () => {
      const want = BEFORE[name];
      for (const y of [yaml, `${yaml}cross_correlations: []\n`]) {
        const r = pointOf(y);
        for (const [k, v] of Object.entries(want.rates)) expect(relErr(r.rates[k] as number, v)).toBeLessThan(1e-13);
        // every mode reported then is reported now; the threshold for reporting a mode is now
        // relative to the initial deviation (docs/physics.md), so weakly excited modes may join
        expect(r.eigenrates.length).toBeGreaterThanOrEqual(want.eigenrates.length);
        want.eigenrates.forEach((v) => expect(Math.min(...r.eigenrates.map((x) => relErr(x, v)))).toBeLessThan(1e-13));
        for (const [k, v] of Object.entries(want.traj)) v.forEach((x, i) => expect(Math.abs(((r.trajectories[k] as number[])[i] as number) - x)).toBeLessThan(1e-13 * Math.max(...v.map(Math.abs))));
      }
    });
  }

  it('a positive b_hz for 15N-1H is used with the physical (negative) sign, and the spec says so', () => {
    const cc = 'cross_correlations: [{ between: [DD, CSA], angle_deg: 17 }]\n';
    const nh = NH.replace('eta: 0.1, ', '');
    const byB = parseSpecText(`${nh}${cc}`, 'b');
    expect(byB.warnings.join('\n')).toMatch(/relaxation\[0\]\.b_hz is 11480 but the dipolar constant of n-h is negative .* b = -11480 Hz is used/);
    const negative = parseSpecText(`${nh.replace('b_hz: 11480', 'b_hz: -11480')}${cc}`, 'neg');
    expect(negative.warnings.filter((w) => w.includes('b_hz'))).toEqual([]);
    const a = pointOf(`${nh}${cc}`);
    const b = pointOf(`${nh.replace('b_hz: 11480', 'b_hz: -11480')}${cc}`);
    for (const k of Object.keys(a.rates)) expect(a.rates[k]).toBe(b.rates[k]);
    // and the same as the distance that gives |b| = 11480 Hz
    const r = Math.cbrt((1e-7 * Math.abs(gN) * gH * HBAR) / (2 * Math.PI * 11480));
    const c = pointOf(`${nh.replace('b_hz: 11480', `distance_m: ${r}`)}${cc}`);
    for (const k of Object.keys(a.rates)) expect(relErr(c.rates[k] as number, a.rates[k] as number)).toBeLessThan(1e-12);
  });

  it('angle_deg and p2 = P2(cos theta) give the same generator', () => {
    const a = pointOf(`${NH.replace('eta: 0.1, ', '')}cross_correlations: [{ between: [DD, CSA], angle_deg: 17 }]\n`);
    const b = pointOf(`${NH.replace('eta: 0.1, ', '')}cross_correlations: [{ between: [CSA, DD], p2: ${P2(17)} }]\n`);
    for (const k of Object.keys(a.rates)) expect(relErr(b.rates[k] as number, a.rates[k] as number)).toBeLessThan(1e-14);
  });

  const refused = (yaml: string): SpecIssue[] => {
    try {
      parseSpecText(yaml, 'refused');
    } catch (e) {
      if (e instanceof SpecError) return [...e.issues];
      throw e;
    }
    throw new Error('the spec was accepted');
  };
  it('refuses pairs whose spectral densities differ, naming the path', () => {
    const y = `${NH.replace('tau_c: tau, label: CSA', 'tau_c: 4e-9, label: CSA')}cross_correlations: [{ between: [DD, CSA], angle_deg: 17 }]\n`;
    const issues = refused(y);
    expect(issues[0]?.path).toMatch(/^cross_correlations\[0\]\.between/);
    expect(issues[0]?.message).toMatch(/different spectral densities/);
    const ls = `${NH.replace('tau_c: tau, label: CSA', 'tau_c: tau, spectral_density: { model: lipari-szabo, S2: 0.8, tau_e: 5e-11 }, label: CSA')}cross_correlations: [{ between: [DD, CSA], angle_deg: 17 }]\n`;
    expect(refused(ls)[0]?.message).toMatch(/different spectral densities/);
  });
  it('refuses an angle for a non-axial tensor, a random field, unknown labels, a pair twice, and unrealisable angles', () => {
    expect(refused(`${NH}cross_correlations: [{ between: [DD, CSA], angle_deg: 17 }]\n`)[0]?.path).toMatch(/^cross_correlations\[0\]\.angle_deg/);
    const rf = NH.replace('label: CSA }', 'label: CSA }\n  - { type: random_field, spins: [n], rms_hz: 10, tau_c: tau, label: RF }');
    expect(refused(`${rf}cross_correlations: [{ between: [DD, RF], p2: 0.5 }]\n`)[0]?.path).toMatch(/^cross_correlations\[0\]\.between\[1\]/);
    expect(refused(`${NH}cross_correlations: [{ between: [DD, XX], p2: 0.5 }]\n`)[0]?.message).toMatch(/unknown mechanism label "XX" \(labels: DD, CSA\)/);
    expect(refused(`${NH}cross_correlations: [{ between: [DD, CSA], p2: 0.5 }, { between: [CSA, DD], p2: 0.5 }]\n`)[0]?.path).toMatch(/^cross_correlations\[1\]\.between/);
    // three dipoles pairwise at 0 degrees except one pair at 90: no geometry does that
    const three = CH2.replace('  - { type: csa, spin: c, delta_ppm: 30, tau_c: tau }\n', '');
    const bad = `${three}cross_correlations:\n  - { between: ["dipolar(c,h1)", "dipolar(c,h2)"], angle_deg: 0 }\n  - { between: ["dipolar(c,h1)", "dipolar(h1,h2)"], angle_deg: 0 }\n  - { between: ["dipolar(c,h2)", "dipolar(h1,h2)"], angle_deg: 90 }\n`;
    expect(refused(bad)[0]?.message).toMatch(/not realisable/);
  });
});
