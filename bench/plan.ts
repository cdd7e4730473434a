import type { BenchMode } from './lib/report.js';

/** How much of each measurement a run makes. */
export interface BenchPlan {
  /** Setup calls on each path with a warm worker. */
  readonly warmCalls: number;
  /** Warm workers started together for those calls (each batch warmed before its calls are timed). */
  readonly warmBatch: number;
  /** Setup calls on each path with the browser launched on the request. */
  readonly coldCalls: number;
  /** How long a setup call stays connected before it is hung up, in ms. */
  readonly talkMs: number;
  /** Seconds of delay clicks each way. */
  readonly delayS: number;
  /** Seconds a steady audio call is metered for its cost. */
  readonly costS: number;
  /** Seconds the video call is metered. */
  readonly videoS: number;
  /**
   * The levels of concurrent calls the density run tries, in order, until one fails: the run reports the highest level
   * that passed, the first that failed and why. The last level bounds the search (a run where it passes says so).
   */
  readonly densityLevels: readonly number[];
  /** Also measure the density of the variants (re-encoding, @sparticuz/chromium). */
  readonly variantDensity: boolean;
  /** Seconds each density level is held. */
  readonly holdS: number;
  /** Length of the phone's click file, in seconds (it plays from each call's start). */
  readonly phoneAudioS: number;
}

/**
 * What each mode runs. Quick keeps every figure but the density of the variants (re-encoding, @sparticuz/chromium),
 * with fewer calls, shorter holds and density levels that double (each level needs as many freshly warmed workers
 * inside the one-vCPU budget, which is most of a run's time).
 */
export const BENCH_PLANS: Readonly<Record<BenchMode, BenchPlan>> = {
  quick: {
    warmCalls: 10,
    warmBatch: 5,
    coldCalls: 1,
    talkMs: 500,
    delayS: 10,
    costS: 5,
    videoS: 5,
    // doubling: the first failing level within three or four levels, so a quick run stays quick
    densityLevels: [2, 4, 8, 16],
    variantDensity: false,
    holdS: 3,
    phoneAudioS: 60,
  },
  full: {
    warmCalls: 40,
    warmBatch: 10,
    coldCalls: 20,
    talkMs: 1_000,
    delayS: 40,
    costS: 60,
    videoS: 60,
    densityLevels: [2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32],
    variantDensity: true,
    holdS: 30,
    phoneAudioS: 240,
  },
};

/**
 * Warm workers alive at once while warming for the timed calls: each holds an idle Chromium, and many launching
 * together on two cores take longer in all than in turns (23 at once did not get warm within 3 minutes on a fresh
 * 2-core machine). Two launch at a time.
 */
export const WARM_START_CONCURRENCY = 2;
/** How long a batch of warm workers may take to get ready (a loaded 2-core machine launches Chromium in 20-30 s). */
export const WARM_TIMEOUT_MS = 300_000;
