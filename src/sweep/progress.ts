import cliProgress from 'cli-progress';

/**
 * Progress of a run on stderr: a live bar with points/s and ETA on a terminal, plain
 * periodic lines otherwise (logs of batch jobs), nothing when quiet.
 */
export class Progress {
  private readonly total: number;
  private done: number;
  private readonly started = performance.now();
  private readonly bar: cliProgress.SingleBar | undefined;
  private lastLine = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly quiet: boolean;
  private readonly label: string;

  constructor(total: number, alreadyDone: number, options: { quiet?: boolean; label?: string; stream?: NodeJS.WriteStream } = {}) {
    this.total = total;
    this.done = alreadyDone;
    this.stream = options.stream ?? process.stderr;
    this.quiet = options.quiet ?? false;
    this.label = options.label ?? 'points';
    if (!this.quiet && this.stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: ' {bar} {percentage}% | {value}/{total} points | {rate} points/s | ETA {eta_formatted}',
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, alreadyDone, { rate: '-' });
    }
  }

  get rate(): number {
    const s = (performance.now() - this.started) / 1000;
    return s > 0 ? this.doneThisRun / s : 0;
  }

  private doneThisRun = 0;

  advance(points: number): void {
    this.done += points;
    this.doneThisRun += points;
    if (this.quiet) return;
    if (this.bar) {
      this.bar.update(this.done, { rate: Math.round(this.rate).toLocaleString('en-US') });
      return;
    }
    const now = performance.now();
    if (now - this.lastLine > 5000 || this.done === this.total) {
      this.lastLine = now;
      const rate = this.rate;
      const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
      this.stream.write(
        `relaxmap: ${this.done}/${this.total} ${this.label} (${((100 * this.done) / this.total).toFixed(1)}%), ${Math.round(rate)} points/s${Number.isFinite(eta) && this.done < this.total ? `, ETA ${eta.toFixed(0)} s` : ''}\n`,
      );
    }
  }

  stop(): void {
    this.bar?.stop();
  }

  note(message: string): void {
    if (this.quiet) return;
    if (this.bar) {
      this.stream.write('\n');
    }
    this.stream.write(`relaxmap: ${message}\n`);
  }
}
