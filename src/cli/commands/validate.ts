import { admit } from '../../sweep/admission.js';
import { defaultMemoryBytes, loadJob } from '../../sweep/executor.js';

/**
 * Validate a spec fully (including building its operators and the admission check that
 * plan and run make: points, tables, chunk files) and print a one-screen summary.
 */
export function validateCommand(specPath: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): void {
  const job = loadJob(specPath, []);
  admit(job, { memoryBytes: defaultMemoryBytes() });
  const checked = job.spec;
  const problem = job.problems[0];
  if (!problem) throw new Error('no initial state');
  const { spec } = checked;
  const m = problem.model;
  for (const w of checked.warnings) err.write(`relaxmap: warning: ${w}\n`);
  const axes = Object.keys(spec.sweep ?? {});
  out.write(
    [
      `ok: ${spec.name ?? specPath}`,
      `  spins: ${m.system.spins.map((s) => `${s.id}(${s.isotope ?? `S=${s.spin}`})`).join(' ')}; Hilbert ${m.system.dim}, Liouville ${m.basis.size}`,
      `  mechanisms: ${spec.relaxation.length}; basis superoperators: ${m.terms.length} (${m.compact.length - m.coherent.length} after merging)${m.coherent.length > 0 ? ` + ${m.coherent.length} coherent` : ''}`,
      `  generator path: ${m.path}: ${m.pathReason}`,
      `  reachable subspace from the initial state: ${problem.reduction.r} of ${m.basis.size}`,
      `  thermalization: ${checked.thermalizations.join(', ')}`,
      `  observables: ${problem.observables.map((o) => o.name).join(', ')}`,
      `  sweep axes: ${axes.length === 0 ? 'none' : axes.join(', ')}`,
      ...(m.coherent.length > 0
        ? [`  coherent terms of the rotating-frame Hamiltonian: ${m.coherent.map((c) => c.label).join('; ')} (the generator is non-normal: modes may oscillate)`, ...m.frameNotes.map((n) => `  frame: ${n}`)]
        : []),
    ].join('\n') + '\n',
  );
}
