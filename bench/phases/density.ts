import { setTimeout as sleep } from 'node:timers/promises';
import type { QualitySummary } from '../../contracts/call-record.js';
import { smallestTaskFor } from '../../infra/fargate.js';
import { DirectCaller } from '../../lab/direct-caller.js';
import { LAB_ROOM_IDS } from '../../lab/janus-server.js';
import type { Lab } from '../../lab/lab.js';
import type { RoomPerson } from '../../lab/room-person.js';
import { WorkerPool } from '../../lab/worker-pool.js';
import { CpuCgroup } from '../lib/cpu-cgroup.js';
import { failureCause, qualityWindow } from '../lib/density-bar.js';
import { measured, missing, type FigureValues, type Measured } from '../lib/report.js';
import type { UsageReport } from '../lib/usage-meter.js';
import { legQuality, SERIES_PATHS, type LegQualityPoint } from '../plots/series.js';
import { WARM_START_CONCURRENCY, WARM_TIMEOUT_MS } from '../plan.js';
import { directUntilAnswered, hangUp, mb, meter, quickRequest, untilConnected, type BenchRun, type Figures } from './calls.js';
import { BRIDGE_VARIANTS } from './variants.js';

/**
 * Density and Janus per call: how many concurrent calls one vCPU of bridges carries at the quality bar, for each
 * variant of the bridge and for the direct call, and what each call costs Janus meanwhile.
 */

/** The CPU budget the bridge's processes get in the density run (a cgroup quota), in cores: one vCPU. */
export const DENSITY_CORES = 1;

/** A density run's variant of the bridge. */
interface DensityVariant {
  readonly name: string;
  readonly env: NodeJS.ProcessEnv;
  /** Also measure the direct call's density. */
  readonly direct: boolean;
}

/** What Janus uses per call: its usage over a held level, less its idle usage, divided by the calls. */
interface JanusPerCall {
  readonly cores: FigureValues;
  readonly pssMb: FigureValues;
}

/**
 * The density rows (forwarded calls and the direct call, then the variants in the full run) and Janus per call.
 * `costUsage` is the cost call's usage, for the Fargate size a call needs at the measured density.
 */
export async function densityFigures(
  run: BenchRun,
  person: RoomPerson,
  work: string,
  costUsage: UsageReport | undefined,
  figures: Figures,
  notes: string[],
): Promise<void> {
  const persons: RoomPerson[] = [person];
  const density = await densityRun(run, persons, work, { name: 'forwarded', env: {}, direct: true });
  figures['density.callsPerVcpu'] = density.figure;
  notes.push(fargateFromDensity(density.figure.roomline, costUsage));
  figures['janus.coresPerCall'] = density.janus.cores;
  figures['janus.pssMbPerCall'] = density.janus.pssMb;
  notes.push(...density.notes);
  if (run.plan.variantDensity) {
    const { reencode, sparticuz } = BRIDGE_VARIANTS;
    run.out('density, re-encoding');
    const reencodeDensity = await densityRun(run, persons, work, { name: reencode.call, env: reencode.env, direct: false });
    figures['density.reencodeCallsPerVcpu'] = { ...reencodeDensity.figure, baseline: density.figure.baseline };
    notes.push(...reencodeDensity.notes);
    run.out('density, @sparticuz/chromium');
    const sparticuzDensity = await densityRun(run, persons, work, { name: sparticuz.call, env: sparticuz.env, direct: false });
    figures['density.sparticuzCallsPerVcpu'] = { ...sparticuzDensity.figure, baseline: density.figure.baseline };
    notes.push(...sparticuzDensity.notes);
  } else {
    const reason = 'measured in the full run only (npm run bench)';
    figures['density.reencodeCallsPerVcpu'] = { roomline: missing(reason), baseline: missing(reason) };
    figures['density.sparticuzCallsPerVcpu'] = { roomline: missing(reason), baseline: missing(reason) };
  }
}

/**
 * The density in Fargate terms: a worker carries one call, so at N calls per vCPU a call needs 1/N vCPU (with the
 * cost call's PSS); the smallest task holding that, with no further headroom (the density level already held its
 * quality with the quota), and what a call-minute costs on it.
 */
function fargateFromDensity(callsPerVcpu: Measured, usage: UsageReport | undefined): string {
  if (callsPerVcpu.kind === 'missing' || usage === undefined) return 'Fargate size from the density: n/a (not measured).';
  const task = smallestTaskFor({ cores: 1 / callsPerVcpu.value, pssMb: usage.maxPssBytes / 2 ** 20, headroom: 1 });
  return (
    `Fargate size from the density: ${callsPerVcpu.value} calls per vCPU is ${(1 / callsPerVcpu.value).toFixed(2)} vCPU ` +
    `per call; with the cost call's ${mb(usage.maxPssBytes)} MB, the smallest task holding one call is ${task.vcpu} vCPU/` +
    `${task.memoryGb} GB, $${task.usdPerCallMinute.toPrecision(3)} per call-minute (us-east-1 on-demand).`
  );
}

/**
 * Density that means one bridge: the workers (and every Chromium process they start) run inside a cgroup with a CPU
 * quota of DENSITY_CORES while the lab (people, Janus, the phone) runs outside; levels of concurrent calls are held
 * until one fails the quality bar. The direct callers get the same cgroup. Janus's CPU and PSS are metered over each
 * held level, against its idle usage, for what one call costs it.
 */
async function densityRun(
  run: BenchRun,
  /** One person per density room, Alice first: added as levels need them, shared by every variant's run. */
  persons: RoomPerson[],
  work: string,
  variant: DensityVariant,
): Promise<{ figure: FigureValues; janus: JanusPerCall; notes: string[] }> {
  const { lab, plan } = run;
  const notes: string[] = [];
  const janusPid = lab.janus.process.child.pid;
  const janusIdle = janusPid === undefined ? undefined : await meter(janusPid, Math.min(5, plan.holdS));
  const cgroup = await CpuCgroup.create({ name: `roomline-bench-${process.pid}`, cores: DENSITY_CORES, nodePath: process.execPath, dir: work });
  const janusAt: { roomline?: { calls: number; usage: UsageReport }; direct?: { calls: number; usage: UsageReport } } = {};
  try {
    let best = 0;
    let reason = 'no level passed';
    let failed: { calls: number; why: string } | undefined;
    for (const calls of plan.densityLevels) {
      while (persons.length < calls) {
        persons.push(
          await lab.addPerson({ display: `Person ${persons.length + 1}`, toneHz: 440, record: false }, LAB_ROOM_IDS[persons.length]),
        );
      }
      const pool = new WorkerPool({
        size: calls,
        env: { ...run.env, ...variant.env },
        dir: lab.dir,
        name: `density-${variant.name.replace(/[^a-z]/g, '')}-${calls}`,
        startConcurrency: WARM_START_CONCURRENCY,
        replace: false,
        execPath: cgroup.launcher,
      });
      try {
        // workers that cannot get warm inside the budget end the search at this level, with the rest of the run kept
        const warmed = await pool.waitReady(calls, WARM_TIMEOUT_MS).then(
          () => true,
          () => false,
        );
        if (!warmed) {
          notes.push(`Density (${variant.name}) at ${calls} calls in ${DENSITY_CORES} vCPU: the workers did not get warm within ${WARM_TIMEOUT_MS / 1000} s.`);
          reason = `${calls} workers did not get warm in ${DENSITY_CORES} vCPU`;
          failed = { calls, why: `the workers did not get warm within ${WARM_TIMEOUT_MS / 1000} s` };
          break;
        }
        const throttledBefore = await cgroup.throttling();
        const callIds = await Promise.all(
          Array.from({ length: calls }, (_, i) => lab.client.enqueueDial(quickRequest(lab, LAB_ROOM_IDS[i]!))),
        );
        await Promise.all(callIds.map((id) => untilConnected(lab, id, 60_000).catch(() => undefined)));
        // judged on the steady window between two of each call's quality samples, not on call setup
        const first = await Promise.all(callIds.map((id) => qualitySample(lab, id)));
        const janus = janusPid === undefined ? undefined : meter(janusPid, plan.holdS);
        await sleep(plan.holdS * 1000);
        const second = await Promise.all(callIds.map((id, i) => qualitySample(lab, id, first[i]?.sampledAt)));
        const janusUsage = await janus;
        const throttled = await cgroup.throttling();
        const records = await Promise.all(callIds.map((id) => hangUp(lab, id)));
        const windows = records.map((record, i) => ({ record, window: qualityWindow(first[i], second[i]) }));
        run.series.density(windows.map(({ window }) => ({ variant: variant.name, calls, ...window.legs })));
        const bad = windows.filter((w) => w.record.state !== 'ENDED' || !w.window.good);
        const periods = throttled.periods - throttledBefore.periods;
        notes.push(
          `Density (${variant.name}) at ${calls} calls in ${DENSITY_CORES} vCPU: ${calls - bad.length} met loss < 1% and concealment < 2% on ` +
            `both legs over ${plan.holdS} s` +
            (bad.length === 0 ? '' : ` (worst: ${bad[0]!.record.state}, ${bad[0]!.window.summary})`) +
            `; the cgroup was throttled in ${throttled.throttledPeriods - throttledBefore.throttledPeriods} of ${periods} ` +
            `periods (${(throttled.throttledMs - throttledBefore.throttledMs).toFixed(0)} ms held back).`,
        );
        if (bad.length > 0) {
          reason = `${calls} calls failed the criteria`;
          const throttledShare = periods > 0 ? (throttled.throttledPeriods - throttledBefore.throttledPeriods) / periods : 0;
          failed = { calls, why: failureCause(bad.length, calls, bad[0]!.record.state, bad[0]!.window, throttledShare) };
          break;
        }
        best = calls;
        if (janusUsage !== undefined) janusAt.roomline = { calls, usage: janusUsage };
      } finally {
        await pool.stop();
      }
    }
    const directBest = variant.direct
      ? await directDensity(run, cgroup, notes, (calls, usage) => {
          janusAt.direct = { calls, usage };
        })
      : missing('measured once, with the forwarded calls');
    const perVcpu = (calls: Measured): Measured => (calls.kind === 'value' ? measured(calls.value / DENSITY_CORES) : calls);
    const perCall = (at: { calls: number; usage: UsageReport } | undefined, pick: (u: UsageReport) => number): Measured =>
      at === undefined || janusIdle === undefined
        ? missing('no level passed with Janus metered')
        : measured(Math.max(0, pick(at.usage) - pick(janusIdle)) / at.calls, at.calls);
    notes.push(
      failed === undefined
        ? `Density (${variant.name}): every level up to ${plan.densityLevels.at(-1)} passed; the search stops there.`
        : `Density (${variant.name}): ${best} calls passed, ${failed.calls} failed: ${failed.why}.`,
    );
    return {
      figure: {
        roomline: perVcpu(best === 0 ? missing(reason) : measured(best)),
        baseline: perVcpu(directBest),
        note:
          `${DENSITY_CORES} vCPU quota (cgroup ${cgroup.version}) on worker + Chromium, or the direct caller's Chromium; each level held ${plan.holdS} s; ` +
          (failed === undefined
            ? `no level up to ${plan.densityLevels.at(-1)} failed (the search's bound)`
            : `first failing level ${failed.calls}: ${failed.why}`),
      },
      janus: {
        cores: {
          roomline: perCall(janusAt.roomline, (u) => u.cores),
          baseline: perCall(janusAt.direct, (u) => u.cores),
          note: `over the highest level that passed, less idle Janus (${janusIdle?.cores.toFixed(3) ?? 'n/a'} cores)`,
        },
        pssMb: {
          roomline: perCall(janusAt.roomline, (u) => u.maxPssBytes / 2 ** 20),
          baseline: perCall(janusAt.direct, (u) => u.maxPssBytes / 2 ** 20),
          note: `highest PSS over the level less idle Janus (${janusIdle === undefined ? 'n/a' : mb(janusIdle.maxPssBytes)} MB)`,
        },
      },
      notes,
    };
  } finally {
    await cgroup.remove().catch((error: unknown) => run.logger.warn({ err: error }, 'the density cgroup could not be removed'));
  }
}

async function directDensity(
  run: BenchRun,
  cgroup: CpuCgroup,
  notes: string[],
  janusAt: (calls: number, usage: UsageReport) => void,
): Promise<Measured> {
  const { lab, plan, logger } = run;
  let best = 0;
  const janusPid = lab.janus.process.child.pid;
  for (const calls of plan.densityLevels) {
    const callers: DirectCaller[] = [];
    try {
      for (let i = 0; i < calls; i++) {
        const caller = await DirectCaller.start({
          netns: lab.netns.name,
          janusUrl: lab.janus.wsUrl,
          apiSecret: lab.janus.apiSecret,
          toneHz: 440,
          logger,
        });
        if (caller.browser.pid !== undefined) await cgroup.adopt(caller.browser.pid);
        callers.push(caller);
      }
      await Promise.all(callers.map((c) => c.call(lab.endpoints.sip.phone)));
      await Promise.all(callers.map((c) => directUntilAnswered(c).catch(() => undefined)));
      await sleep(2_000);
      const first = await Promise.all(callers.map((c) => c.stats()));
      const janus = janusPid === undefined ? undefined : meter(janusPid, plan.holdS);
      await sleep(plan.holdS * 1000);
      const second = await Promise.all(callers.map((c) => c.stats()));
      const janusUsage = await janus;
      await Promise.all(callers.map((c) => c.hangup()));
      const now = new Date().toISOString();
      // a direct call has one leg: it is judged on it alone (its "room" is the caller page)
      const windows = first.map((q, i) => qualityWindow({ sampledAt: now, sip: q, room: q }, { sampledAt: now, sip: second[i]!, room: second[i]! }));
      run.series.density(windows.map((w) => ({ variant: SERIES_PATHS.direct, calls, ...(w.legs.sip === undefined ? {} : { sip: w.legs.sip }) })));
      const bad = windows.filter((w) => !w.good);
      notes.push(`Direct-call density at ${calls} calls in ${DENSITY_CORES} vCPU: ${calls - bad.length} met the criteria.`);
      if (bad.length > 0) break;
      best = calls;
      if (janusUsage !== undefined) janusAt(calls, janusUsage);
    } finally {
      await Promise.all(callers.map((c) => c.close()));
    }
  }
  return best === 0 ? missing('no level passed') : measured(best);
}

/** The call's latest quality sample, newer than `after` (the worker writes one every few seconds). */
async function qualitySample(lab: Lab, callId: string, after?: string): Promise<QualitySummary | undefined> {
  const record = await lab.client
    .waitForCall(callId, (r) => r.quality !== undefined && r.quality.sampledAt !== after, { timeoutMs: 15_000 })
    .catch(() => undefined);
  return record?.quality;
}
