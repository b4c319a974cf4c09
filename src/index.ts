/**
 * relaxmap as a library. The layers follow the data flow: spec -> spin system -> operators
 * and eigenoperators -> basis superoperators -> per-point coefficients -> batched generators
 * -> propagation / rates -> aggregation -> writers.
 */

// spec
export { parseSpecText, loadSpecFile, validateSpecObject, type LoadedSpec } from './spec/load.js';
export { loadSpec, specSource, type SpecInput, type SpecObject, type SpecSource } from './spec/input.js';
export type { CheckedSpec, InitialSpec, Output } from './spec/semantic.js';
export { SpecError, UsageError, type SpecIssue } from './spec/errors.js';
export { specSchema, type SpecV1 } from './spec/schema.js';
export { specJsonSchema } from './spec/json-schema.js';
export { buildProblem, systemDescription, baseParameters } from './spec/resolve.js';
export { parseSets, applyOverrides, type Override } from './spec/overrides.js';

// spin systems and operators
export { SpinSystem, type Spin } from './spin/spin-system.js';
export { ISOTOPES, ELECTRON_G, lookupIsotope, type Isotope } from './spin/isotopes.js';
export { singleSpinOperator } from './spin/spin-operators.js';
export { OperatorBasis } from './liouville/operator-basis.js';
export { SparseMatrix } from './liouville/sparse-matrix.js';
export { reachableSubspace } from './liouville/reachable-subspace.js';
export { CMatrix } from './math/cmatrix.js';

// physics
export { buildGeneratorModel, termsAt, coefficientAt, frequencyAt, type GeneratorModel, type Term, type CompactTerm, type TermLabel } from './physics/generator-model.js';
export { assembleGenerator } from './physics/assemble-generator.js';
export { THERMAL_MODELS, evenPart, oddPart, thermalFactor, type ThermalModel } from './physics/thermalization.js';
export { lorentzian, lipariSzabo, type SpectralDensity } from './physics/spectral-density.js';
export { boltzmannVector, boltzmannPopulations } from './physics/states.js';
export { operatorFromExpression, parseOperatorExpression } from './physics/operator-expression.js';
export type { SystemDescription, Mechanism } from './physics/system-description.js';
export type { CrossCorrelation, CsaAnisotropy } from './physics/system-description.js';
export { rank2Coupling, quadrupolarFrequency, p2OfAngle } from './physics/mechanisms.js';
export { HIGH_TEMPERATURE_BOUND, beyondHighTemperature, outsideSpectrum, spectralRange, negativePopulation, maxTransitionFrequency, thermalValidity } from './physics/validity.js';
export { HBAR, KB, betaOf } from './physics/constants.js';

// one point, float64
export { projectionRate, propagate, type PointResult, type PointOptions, type ContributionSeries } from './evaluate/point.js';
// evaluatePoint checks its parameter values and model against the problem's spec (SpecError)
export { evaluatePoint, checkPointInputs, point, type PointRequest, type SpecPointResult } from './api/point.js';
export { ModeExtractor } from './evaluate/mode-extractor.js';
export type { Problem, InitialState, Observable, TimeGrid } from './evaluate/problem.js';

// batched engine
export { createJob } from './engine/create-job.js';
export { buildJob, kernelFor, chunkShape, type Job, type JobSource } from './engine/job.js';
export { compileProblem, type CompiledProblem } from './engine/compiled-problem.js';
export { CoefficientTables } from './engine/coefficient-tables.js';
export { F64Kernel } from './engine/f64-kernel.js';
export { InlineBackend } from './engine/inline-backend.js';
export { WorkerBackend } from './engine/worker-backend.js';
export { selectBackend, type BackendChoice } from './engine/select-backend.js';
export { EngineError, type EngineBackend, type BackendStats } from './engine/backend.js';
export { chunkViews, type Chunk, type ChunkResult, type Want } from './engine/chunk.js';
export { flagUnphysical } from './engine/unphysical.js';

// sweeps
export { buildGrid, pointParams, totalPoints, type SweepGrid } from './sweep/grid.js';
export { makePlan, type RunPlan } from './sweep/plan.js';
export { runSweep, type RunOptions, type RunSummary, type Shard } from './sweep/executor.js';
export { mergeShards } from './sweep/merge.js';
export { writeNetcdf, readNetcdf, createNetcdf, type NcDataset, type NcDimension, type NcVariable, type NcStringVariable, type NcDtype } from './io/netcdf.js';

// results: reading run directories, figures, report
export { loadRunDirectory, type RunData, type RunFile, type Field, type Dim, type TermInfo, type ContributionsFile } from './plot/run-directory.js';
export { plotRunDirectory, buildFigures, type PlotOptions, type PlotResult, type FigureFormat } from './plot/index.js';
export { writeReport, type ReportOptions, type ReportResult } from './report/index.js';
export { VERSION } from './version.js';
