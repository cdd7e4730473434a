import { draw, type Distribution, type Random } from './random.js';

/** The calls of a run: steady Poisson arrivals plus bursts of calls that arrive in the same second. */
export interface Workload {
  /** Steady calls per hour (Poisson). */
  readonly callsPerHour: number;
  /** Calls in each burst, on top of the steady ones. @default 0 (no bursts) */
  readonly burst?: number;
  /** Mean minutes between bursts (Poisson). @default 60 */
  readonly burstEveryMin?: number;
  /** Call length. */
  readonly duration: Distribution;
}

/** Arrival seconds (ascending) and call lengths for `horizonS` seconds of `workload`. */
export function generateCalls(workload: Workload, horizonS: number, random: Random): { arrivals: number[]; durations: number[] } {
  const times: number[] = [];
  if (workload.callsPerHour > 0) {
    for (let t = draw({ kind: 'exponential', meanS: 3600 / workload.callsPerHour }, random); t < horizonS; t += draw({ kind: 'exponential', meanS: 3600 / workload.callsPerHour }, random)) {
      times.push(Math.floor(t));
    }
  }
  const burst = workload.burst ?? 0;
  if (burst > 0) {
    const meanS = 60 * (workload.burstEveryMin ?? 60);
    for (let t = draw({ kind: 'exponential', meanS }, random); t < horizonS; t += draw({ kind: 'exponential', meanS }, random)) {
      for (let i = 0; i < burst; i++) times.push(Math.floor(t));
    }
  }
  const arrivals = times.sort((a, b) => a - b);
  return { arrivals, durations: arrivals.map(() => draw(workload.duration, random)) };
}
