import type { DirectCaller } from '../../lab/direct-caller.js';
import type { RoomPerson } from '../../lab/room-person.js';
import { WorkerPool } from '../../lab/worker-pool.js';
import { WARM_START_CONCURRENCY, WARM_TIMEOUT_MS } from '../plan.js';
import type { BenchRun, Figures } from './calls.js';
import { coresOf, pssMbOf, roomlineCostCall, type CostMeasurement } from './cost.js';
import { CALIBRATION_DELAY_MS, delayCall, delayOf, recoveredMs, type DelayCallResult } from './delay.js';
import { launchTimes } from './setup-time.js';

/**
 * Variants of the bridge: the same steady call and delay clicks on workers that re-encode every frame, or that run
 * the @sparticuz/chromium build, against the direct call of the run.
 */

export interface BridgeVariant {
  /** The group of its figures. */
  readonly id: 'sparticuz' | 'reencode';
  /** How the notes name its calls. */
  readonly call: string;
  /** The workers' environment on top of the run's. */
  readonly env: Readonly<Record<string, string>>;
  /** Its workers warming up at once. */
  readonly startConcurrency: number;
  /** How long its two workers may take to get warm, in ms. */
  readonly warmTimeoutMs: number;
}

export const BRIDGE_VARIANTS = {
  reencode: {
    id: 'reencode',
    call: 're-encoding',
    env: { ROOMLINE_ENCODED_FORWARDING: 'off' },
    startConcurrency: WARM_START_CONCURRENCY,
    warmTimeoutMs: WARM_TIMEOUT_MS,
  },
  sparticuz: {
    id: 'sparticuz',
    call: '@sparticuz/chromium',
    // it runs single-process without Chromium's sandbox (as on Fargate, where the construct turns the sandbox off)
    env: { ROOMLINE_CHROMIUM: 'sparticuz', ROOMLINE_CHROMIUM_SANDBOX: 'off' },
    startConcurrency: 1,
    warmTimeoutMs: 180_000,
  },
} as const satisfies Record<string, BridgeVariant>;

/**
 * A steady call and the delay clicks on two workers of the variant, with its cost and delay rows set against the
 * direct call's. Returns the median Chromium launch of its workers.
 */
export async function variantCalls(
  run: BenchRun,
  variant: BridgeVariant,
  person: RoomPerson,
  direct: { readonly caller: DirectCaller; readonly cost: CostMeasurement; readonly delay: DelayCallResult },
  figures: Figures,
  notes: string[],
): Promise<{ readonly launch: string }> {
  const pool = new WorkerPool({
    size: 2,
    env: { ...run.env, ...variant.env },
    dir: run.lab.dir,
    name: variant.id,
    replace: false,
    startConcurrency: variant.startConcurrency,
  });
  await pool.waitReady(2, variant.warmTimeoutMs);
  const cost = await roomlineCostCall(run, pool);
  await pool.waitReady(1);
  const delay = await delayCall(run, 'roomline', person, direct.caller);
  const launch = await launchTimes(pool);
  await pool.stop();
  setVariantFigures(run, figures, variant, { cost, delay }, direct, notes);
  return { launch };
}

/** The cost and delay rows of a variant of the bridge, against the direct call. */
function setVariantFigures(
  run: BenchRun,
  figures: Figures,
  variant: BridgeVariant,
  measuredCalls: { readonly cost: CostMeasurement; readonly delay: DelayCallResult },
  direct: { readonly cost: CostMeasurement; readonly delay: DelayCallResult },
  notes: string[],
): void {
  const { id } = variant;
  figures[`${id}.cores`] = { roomline: coresOf(measuredCalls.cost), baseline: coresOf(direct.cost), note: `steady ${run.plan.costS} s` };
  figures[`${id}.pssMb`] = { roomline: pssMbOf(measuredCalls.cost), baseline: pssMbOf(direct.cost), note: 'highest PSS over the call' };
  figures[`${id}.roomToPhone`] = { roomline: delayOf(measuredCalls.delay.roomToPhone), baseline: delayOf(direct.delay.roomToPhone) };
  figures[`${id}.phoneToRoom`] = { roomline: delayOf(measuredCalls.delay.phoneToRoom), baseline: delayOf(direct.delay.phoneToRoom) };
  const recovered = recoveredMs(measuredCalls.delay);
  notes.push(
    `Calibration on the ${variant.call} call: of the known ${CALIBRATION_DELAY_MS} ms the method recovered ` +
      (recovered.kind === 'value' ? `${recovered.value.toFixed(1)} ms (${recovered.n} pairs).` : `nothing (${recovered.reason}).`),
  );
}
