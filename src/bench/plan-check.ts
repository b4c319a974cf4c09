import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One spec: relaxmap plan's ETA against the measured `relaxmap run` (run.json total_s). */
export interface PlanCheck {
  readonly spec: string;
  readonly points: number;
  readonly eta_s: number;
  readonly run_s: number;
  /** eta / run: 1 is exact; the goal is within 0.7..1.3. */
  readonly ratio: number;
}

function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));
}

/** Every example in sweeps/ and bench/baseline/dnp-e3h.yaml: `relaxmap plan`, then `relaxmap run` (auto backend), compared. */
export async function planAgainstRun(log: (s: string) => void): Promise<PlanCheck[]> {
  const root = repoRoot();
  const specs = [
    ...readdirSync(join(root, 'sweeps'))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => join(root, 'sweeps', f)),
    join(root, 'bench', 'baseline', 'dnp-e3h.yaml'),
  ];
  const out: PlanCheck[] = [];
  // plan and run each in a fresh process, as a user runs them: in one process the second
  // would find the first's code compiled by the JIT and run faster than any real run
  const cli = (args: string[]): Promise<string> =>
    new Promise((ok, fail) => {
      execFile(process.execPath, [join(root, 'bin', 'relaxmap.js'), ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => (err ? fail(new Error(`relaxmap ${args.join(' ')}: ${err.message}\n${stderr}`)) : ok(stdout)));
    });
  for (const spec of specs) {
    const text = await cli(['plan', spec, '--json']);
    const plan = JSON.parse(text.trim().split('\n').pop() ?? '{}') as { eta_s: number | null; points: number };
    const dir = mkdtempSync(join(tmpdir(), 'relaxmap-plan-check-'));
    try {
      await cli(['run', spec, '--out', join(dir, 'out'), '--quiet']);
      const info = JSON.parse(readFileSync(join(dir, 'out', 'run.json'), 'utf8')) as { timings: { total_s: number } };
      const eta = plan.eta_s ?? NaN;
      const check = { spec: spec.slice(root.length + 1), points: plan.points, eta_s: Number(eta.toFixed(3)), run_s: Number(info.timings.total_s.toFixed(3)), ratio: Number((eta / info.timings.total_s).toFixed(3)) };
      out.push(check);
      log(`  plan vs run: ${check.spec.padEnd(28)} ${String(check.points).padStart(7)} points  ETA ${check.eta_s.toFixed(2)} s, run ${check.run_s.toFixed(2)} s (ETA/run ${check.ratio.toFixed(2)})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
