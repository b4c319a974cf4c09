import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { planCommand } from '../cli/commands/plan.js';
import { runSweep } from '../sweep/executor.js';

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

/** Every example in sweeps/ and bench/baseline/dnp-e3h.yaml: plan, then run (auto backend), compared. */
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
  for (const spec of specs) {
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    await planCommand(spec, { json: true }, sink);
    const plan = JSON.parse(text.trim().split('\n').pop() ?? '{}') as { eta_s: number | null; points: number };
    const dir = mkdtempSync(join(tmpdir(), 'relaxmap-plan-check-'));
    try {
      await runSweep({ specPath: spec, outDir: join(dir, 'out'), backend: 'auto', quiet: true });
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
