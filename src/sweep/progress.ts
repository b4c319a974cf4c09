import cliProgress from 'cli-progress';

/**
 * Progress of a run on stderr: a live bar with points/s and ETA on a terminal, plain
 * periodic lines otherwise (logs of batch jobs), nothing when quiet.
 *
 * The terminal stays clean: the bar starts only with the first result (so header lines
 * printed before it are never overwritten), a note printed while it runs takes the bar's line
 * and the bar is redrawn below it, and `stop()` erases the bar so that the summary that
 * follows starts on an empty line. The cursor is never hidden, so an interrupted run cannot
 * leave the terminal without one.
 *
 * ETA: chunks run `lanes` at a time, so the first results arrive together after a whole chunk
 * time; points/elapsed after the first of them would count one lane's work over the time of
 * all, and overestimate the remaining time `lanes`-fold. The first chunks of each lane also
 * carry the start-up (workers compiling, JIT warm-up). So: until every lane has delivered a
 * second chunk, the calibrated estimate of the backend choice (what `relaxmap plan` prints;
 * without one, points over elapsed time once every lane delivered), then the throughput since
 * the first round, which leaves the start-up out.
 */
export interface ProgressOptions {
  readonly quiet?: boolean;
  readonly label?: string;
  readonly stream?: NodeJS.WriteStream;
  /** Chunks evaluated at the same time (default 1). */
  readonly lanes?: number;
  /** Calibrated estimate of the whole run, seconds (shown until measured). */
  readonly estimateSeconds?: number;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

/** `1h 02m`, `3m 50s`, `39s`. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '-';
  const r = Math.round(s);
  if (r < 60) return `${r}s`;
  if (r < 3600) return `${Math.floor(r / 60)}m ${String(r % 60).padStart(2, '0')}s`;
  return `${Math.floor(r / 3600)}h ${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly total: number;
  private done: number;
  private readonly now: () => number;
  private readonly started: number;
  private readonly stream: NodeJS.WriteStream;
  private readonly quiet: boolean;
  private readonly label: string;
  private readonly lanes: number;
  private readonly estimateSeconds: number | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private barActive = false;
  private lastLine = -Infinity;
  private doneThisRun = 0;
  private results = 0;
  /** Time (ms) and points of this run at the end of the first round (every lane delivered once) and of the last. */
  private firstRound: { t: number; points: number } | undefined;
  private lastRound: { t: number; points: number } | undefined;

  constructor(total: number, alreadyDone: number, options: ProgressOptions = {}) {
    this.total = total;
    this.done = alreadyDone;
    this.stream = options.stream ?? process.stderr;
    this.quiet = options.quiet ?? false;
    this.label = options.label ?? 'points';
    this.lanes = Math.max(1, options.lanes ?? 1);
    this.estimateSeconds = options.estimateSeconds;
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
    if (!this.quiet && this.stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: ` {bar} {percentage}% | {value}/{total} ${this.label} | {rate} ${this.label}/s | ETA {etaText}`,
          hideCursor: false,
          clearOnComplete: true,
          stopOnComplete: false,
          linewrap: false,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  private get elapsed(): number {
    return (this.now() - this.started) / 1000;
  }

  /** Points per second of this run so far (0 before the first result). */
  get rate(): number {
    const s = this.elapsed;
    return s > 0 ? this.doneThisRun / s : 0;
  }

  /** Remaining seconds as shown: the estimate until every lane delivered, then measured; NaN when unknown. */
  etaSeconds(): number {
    if (this.done >= this.total) return 0;
    const remaining = this.total - this.done;
    // Projected from the end of the last whole round: results within a round arrive in bursts.
    const first = this.firstRound;
    const last = this.lastRound;
    const since = last ? (this.now() - last.t) / 1000 : 0;
    const rest = last ? this.total - (this.done - this.doneThisRun) - last.points : remaining;
    if (first && last && last !== first) {
      const rate = (last.points - first.points) / ((last.t - first.t) / 1000);
      if (rate > 0) return Math.max(0, rest / rate - since);
    }
    if (this.estimateSeconds !== undefined) return Math.max(0, this.estimateSeconds - this.elapsed);
    if (!last || last.points === 0) return NaN;
    return Math.max(0, rest / (last.points / ((last.t - this.started) / 1000)) - since);
  }

  /** Whether the ETA shown is the calibrated estimate rather than measured. */
  private get estimated(): boolean {
    return this.estimateSeconds !== undefined && !(this.firstRound && this.lastRound && this.lastRound !== this.firstRound);
  }

  private etaText(): string {
    const eta = this.etaSeconds();
    if (!Number.isFinite(eta)) return '…';
    return this.estimated ? `~${formatDuration(eta)} (estimate)` : formatDuration(eta);
  }

  private payload(): Record<string, string> {
    return { rate: this.doneThisRun > 0 ? Math.round(this.rate).toLocaleString('en-US') : '-', etaText: this.etaText() };
  }

  advance(points: number): void {
    this.done += points;
    this.doneThisRun += points;
    this.results++;
    if (this.results % this.lanes === 0) {
      this.lastRound = { t: this.now(), points: this.doneThisRun };
      this.firstRound ??= this.lastRound;
    }
    if (this.quiet) return;
    if (this.bar) {
      if (!this.barActive) {
        this.bar.start(this.total, this.done, this.payload());
        this.barActive = true;
      } else {
        this.bar.update(this.done, this.payload());
      }
      return;
    }
    const now = this.now();
    if (now - this.lastLine > 5000 || this.done === this.total) {
      this.lastLine = now;
      const eta = this.etaSeconds();
      this.stream.write(
        `relaxmap: ${this.done}/${this.total} ${this.label} (${((100 * this.done) / this.total).toFixed(1)}%), ${Math.round(this.rate)} ${this.label}/s${this.done < this.total && Number.isFinite(eta) ? `, ETA ${this.etaText()}` : ''}\n`,
      );
    }
  }

  /** Erase the bar (a summary printed next starts on a clean line). */
  stop(): void {
    if (this.bar && this.barActive) this.bar.stop();
    this.barActive = false;
  }

  /** A line above the bar: the bar is erased, the line written, the bar drawn again. */
  note(message: string): void {
    if (this.quiet) return;
    const wasActive = this.barActive;
    this.stop();
    this.stream.write(`relaxmap: ${message}\n`);
    if (wasActive && this.bar) {
      this.bar.start(this.total, this.done, this.payload());
      this.barActive = true;
    }
  }
}
