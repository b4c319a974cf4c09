import { parseSpecText } from '../spec/load.js';
import { applyOverrides } from '../spec/overrides.js';
import type { Want } from './chunk.js';
import { buildJob, type Job, type JobSource } from './job.js';

/** Parse, validate and build a job from spec text (main thread; workers use buildJob). */
export function createJob(source: JobSource, want?: Want): Job {
  const spec = parseSpecText(source.text, source.source, source.overrides.length > 0 ? (raw) => applyOverrides(raw, source.overrides) : undefined);
  return buildJob(spec, source, want);
}
