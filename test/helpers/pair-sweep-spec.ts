/**
 * The 1H pair sweep the lifecycle and cluster tests run (b/2pi = 35 kHz, tau_c = 8 ps,
 * singlet start), written out as spec text. `randomField` adds the correlated random field
 * (tau_ran, kappa), both Lindblad models, the singlet observable and the mode outputs; without
 * it the sweep is the lean rodin-abergel one (rates and trajectories of Mz). Only the name,
 * the time points and the axes differ between the tests.
 */
export interface PairSweepOptions {
  readonly name: string;
  readonly randomField?: boolean;
  readonly timePoints: number;
  readonly T: { readonly log: readonly [number, number]; readonly points: number };
  readonly B0: { readonly lin: readonly [number, number]; readonly points: number };
  /** More sweep axes, as YAML lines under `sweep:` (e.g. a kappa axis). */
  readonly moreAxes?: readonly string[];
}

export function pairSweepSpec(o: PairSweepOptions): string {
  const rf = o.randomField === true;
  const lines = [
    'version: 1',
    `name: ${o.name}`,
    'spins:',
    '  - { id: a, isotope: 1H }',
    '  - { id: b, isotope: 1H }',
    rf ? 'parameters: { T: 300, B0: 9.4, tau_c: 8e-12, tau_ran: 60e-12, kappa: 0.2 }' : 'parameters: { T: 300, B0: 9.4, tau_c: 8e-12 }',
    'relaxation:',
    '  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c }',
    ...(rf ? ['  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: tau_ran, kappa: kappa }'] : []),
    rf ? 'thermalization: [rodin-abergel, bengs-levitt]' : 'thermalization: rodin-abergel',
    'initial: singlet(a,b)',
    'observables:',
    '  Mz: Iz(a) + Iz(b)',
    ...(rf ? ['  singlet: singlet(a,b)'] : []),
    `time: { stop: 60, points: ${o.timePoints} }`,
    'sweep:',
    `  T: { log: [${o.T.log[0]}, ${o.T.log[1]}], points: ${o.T.points} }`,
    `  B0: { lin: [${o.B0.lin[0]}, ${o.B0.lin[1]}], points: ${o.B0.points} }`,
    ...(o.moreAxes ?? []).map((a) => `  ${a}`),
    rf ? 'outputs: [rates, eigenrates, steady_state, trajectories]' : 'outputs: [rates, trajectories]',
  ];
  return `${lines.join('\n')}\n`;
}
