/**
 * The one stop path. SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 all mean "stop": while a
 * run (or merge) is active they abort its AbortSignal, the run drops the chunk in flight,
 * keeps its checkpoints, releases its lock and exits 75 (interrupted, resumable); a second
 * signal skips the orderly part (the lock is still released). With nothing to stop, the
 * process exits at once with 128 + the signal number, as a shell expects.
 *
 * Listening to SIGUSR1 is also what keeps Node from opening its inspector on that signal
 * (Node 20 has no --disable-sigusr1), which is why the handlers stay installed for the
 * whole life of the command instead of only while a run is active.
 */
import { constants } from 'node:os';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
export type StopSignalName = (typeof STOP_SIGNALS)[number];

/** The exit code of a forced stop (a second signal), the same as an orderly one. */
const EXIT_INTERRUPTED = 75;

export interface StopScope {
  /** Aborted on the first stop signal. */
  readonly signal: AbortSignal;
  /** The signal that stopped the scope, if any. */
  readonly stoppedBy: StopSignalName | undefined;
  /** Run by a second signal before the process exits: synchronous cleanup only (release the lock). */
  onForce(fn: () => void): void;
  dispose(): void;
}

interface ActiveScope {
  readonly controller: AbortController;
  stoppedBy: StopSignalName | undefined;
  force: Array<() => void>;
}

let installed = false;
let ownedByScope = false;
const scopes: ActiveScope[] = [];

function onSignal(sig: StopSignalName): void {
  const scope = scopes[scopes.length - 1];
  if (!scope) {
    process.exit(128 + (constants.signals[sig] ?? 0));
  }
  if (scope.stoppedBy === undefined) {
    scope.stoppedBy = sig;
    scope.controller.abort(new Error(`stopped by ${sig}`));
    return;
  }
  for (const fn of scope.force) {
    try {
      fn();
    } catch {
      // exiting anyway
    }
  }
  process.stderr.write(`relaxmap: ${sig} again: stopping now (checkpoints kept: rerun with --resume)\n`);
  process.exit(EXIT_INTERRUPTED);
}

const handlers = new Map<StopSignalName, () => void>(STOP_SIGNALS.map((s) => [s, () => onSignal(s)]));

/** Install the handlers for the life of the process (the CLI does this first). Idempotent. */
export function installStopHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [sig, h] of handlers) process.on(sig, h);
}

function uninstallStopHandlers(): void {
  if (!installed) return;
  installed = false;
  for (const [sig, h] of handlers) process.removeListener(sig, h);
}

/**
 * Begin an interruptible operation. Library callers that did not install the handlers get
 * them for the scope's duration.
 */
export function stopScope(): StopScope {
  if (!installed) {
    installStopHandlers();
    ownedByScope = true;
  }
  const active: ActiveScope = { controller: new AbortController(), stoppedBy: undefined, force: [] };
  scopes.push(active);
  return {
    signal: active.controller.signal,
    get stoppedBy() {
      return active.stoppedBy;
    },
    onForce(fn) {
      active.force.push(fn);
    },
    dispose() {
      const k = scopes.indexOf(active);
      if (k >= 0) scopes.splice(k, 1);
      if (scopes.length === 0 && ownedByScope) {
        ownedByScope = false;
        uninstallStopHandlers();
      }
    },
  };
}

/** A promise that settles (never rejects) when the signal aborts. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((ok) => signal.addEventListener('abort', () => ok(), { once: true }));
}

/** Yield to the event loop (so that signal handlers and timers run). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((ok) => setImmediate(ok));
}
