import { setTimeout as sleep } from 'node:timers/promises';
import type { LegQuality } from '../../contracts/call-record.js';
import type { DirectCaller } from '../../lab/direct-caller.js';
import type { WorkerPool } from '../../lab/worker-pool.js';
import { smallestTaskFor } from '../../infra/fargate.js';
import { processTree, sampleThreads, threadCpuBetween } from '../lib/process-usage.js';
import { measured, missing, type Measured } from '../lib/report.js';
import type { UsageReport } from '../lib/usage-meter.js';
import { directUntilAnswered, hangUp, meter, quickRequest, untilConnected, type BenchRun, type Figures } from './calls.js';

/**
 * Cost and continuity: a steady audio call on each path, its processes metered (CPU, PSS, and what that costs on the
 * smallest Fargate task holding it), and the concealment and jitter buffer of the audio it received.
 */

export interface CostMeasurement {
  readonly usage: UsageReport | undefined;
  /** CPU of each thread name over the metered window, in cores, summed over the tree's processes, the busiest first. */
  readonly threads?: readonly { readonly name: string; readonly cores: number }[];
  readonly quality: LegQuality | undefined;
  readonly roomQuality: LegQuality | undefined;
}

/** A steady Roomline call on a warm worker of `pool`, its worker and browser metered for `plan.costS`. */
export async function roomlineCostCall(run: BenchRun, pool: WorkerPool): Promise<CostMeasurement> {
  const { lab } = run;
  const callId = await lab.client.enqueueDial(quickRequest(lab));
  await untilConnected(lab, callId);
  const worker = pool.workers.find((w) => w.callId === callId);
  await sleep(2_000);
  const pid = worker?.child.pid;
  const threads = pid === undefined ? undefined : await threadsOver(pid);
  const usage = pid === undefined ? undefined : await meter(pid, run.plan.costS);
  const record = await hangUp(lab, callId);
  return { usage, threads: await threads?.(), quality: record.quality?.sip, roomQuality: record.quality?.room };
}

/** The same call from the direct page, its browser metered. */
export async function directCostCall(run: BenchRun, direct: DirectCaller): Promise<CostMeasurement> {
  // the page's recorder is a measuring instrument, not part of a caller: off while its cost is measured
  await direct.setRecording(false);
  await direct.call(run.lab.endpoints.sip.phone);
  await directUntilAnswered(direct);
  await sleep(2_000);
  const pid = direct.browser.pid;
  const threads = pid === undefined ? undefined : await threadsOver(pid);
  const usage = pid === undefined ? undefined : await meter(pid, run.plan.costS);
  const quality = await direct.stats();
  await direct.hangup();
  await direct.setRecording(true);
  return { usage, threads: await threads?.(), quality, roomQuality: undefined };
}

/**
 * Reads the CPU time of every thread of `rootPid`'s tree now; the function returned reads it again and gives each
 * thread name's CPU between the two, in cores (Chromium names its threads: `AudioOutputDevi`, `WebRTC_W_and_N`,
 * `DedicatedWorker`...), summed over processes.
 */
export async function threadsOver(rootPid: number): Promise<() => Promise<readonly { name: string; cores: number }[]>> {
  const pids = await processTree(rootPid);
  const read = () => Promise.all(pids.map(async (pid) => sampleThreads(pid)));
  const before = await read();
  const startedAt = performance.now();
  return async () => {
    const after = await read();
    const seconds = (performance.now() - startedAt) / 1000;
    const byName = new Map<string, number>();
    after.forEach((threads, i) => {
      for (const t of threadCpuBetween(before[i] ?? [], threads)) byName.set(t.name, (byName.get(t.name) ?? 0) + t.cpuSeconds);
    });
    return [...byName].map(([name, cpu]) => ({ name, cores: cpu / seconds })).sort((a, b) => b.cores - a.cores);
  };
}

/** A steady call's CPU, in cores, of the worker and its browser (or the direct page's). */
export function coresOf(c: CostMeasurement): Measured {
  return c.usage === undefined ? missing('process not found') : measured(c.usage.cores);
}

/** A call's highest PSS, in MB, over all its processes. */
export function pssMbOf(c: CostMeasurement): Measured {
  return c.usage === undefined ? missing('process not found') : measured(c.usage.maxPssBytes / 2 ** 20);
}

export function setCostFigures(
  run: BenchRun,
  figures: Figures,
  roomline: CostMeasurement,
  direct: CostMeasurement,
  notes: string[],
): void {
  run.series.cpu({ roomline: roomline.usage, direct: direct.usage });
  figures['cost.cores'] = { roomline: coresOf(roomline), baseline: coresOf(direct), note: `steady ${run.plan.costS} s, worker + browser processes` };
  figures['cost.pssMb'] = { roomline: pssMbOf(roomline), baseline: pssMbOf(direct), note: 'highest PSS over the call' };
  const price = (c: CostMeasurement): { value: Measured; size: string } => {
    if (c.usage === undefined) return { value: missing('process not found'), size: '' };
    const task = smallestTaskFor({ cores: c.usage.cores, pssMb: c.usage.maxPssBytes / 2 ** 20 });
    return { value: measured(task.usdPerCallMinute), size: `${task.vcpu} vCPU/${task.memoryGb} GB` };
  };
  const r = price(roomline);
  const d = price(direct);
  figures['cost.fargateUsdPerCallMinute'] = {
    roomline: r.value,
    baseline: d.value,
    note: `smallest Fargate task holding the call with 1.5× headroom: ${r.size} (Roomline), ${d.size} (direct); us-east-1 on-demand`,
  };
  const concealed = (q: LegQuality | undefined): Measured =>
    q?.audioIn?.concealmentRate === undefined ? missing('no inbound audio') : measured(q.audioIn.concealmentRate * 100);
  const buffer = (q: LegQuality | undefined): Measured =>
    q?.audioIn?.concealmentFrom === 'relay'
      ? missing('no jitter buffer: the audio is forwarded undecoded')
      : q?.audioIn?.jitterBufferMs === undefined
        ? missing('no inbound audio')
        : measured(q.audioIn.jitterBufferMs);
  const relayNote = roomline.quality?.audioIn?.concealmentFrom === 'relay' ? { note: 'Roomline: forwarded undecoded, the frames the relay left the far end to conceal' } : {};
  figures['continuity.sipConcealedPercent'] = { roomline: concealed(roomline.quality), baseline: concealed(direct.quality), ...relayNote };
  figures['continuity.sipJitterBufferMs'] = { roomline: buffer(roomline.quality), baseline: buffer(direct.quality) };
  figures['continuity.roomConcealedPercent'] = { roomline: concealed(roomline.roomQuality), baseline: missing('a direct call has no room leg'), ...relayNote };
  figures['continuity.roomJitterBufferMs'] = { roomline: buffer(roomline.roomQuality), baseline: missing('a direct call has no room leg') };
  const top = roomline.usage?.processes.slice(0, 4).map((p) => `${p.comm} ${(p.cpuSeconds / roomline.usage!.wallSeconds).toFixed(3)}`);
  if (top !== undefined) notes.push(`Where a bridged audio call's CPU goes (cores, by process): ${top.join(', ')}.`);
  const byThread = (c: CostMeasurement) => c.threads?.slice(0, 8).map((t) => `${t.name} ${t.cores.toFixed(3)}`).join(', ');
  if (roomline.threads !== undefined) {
    notes.push(
      `Where it goes by thread (cores, summed over the processes): Roomline ${byThread(roomline)}; direct call ${byThread(direct) ?? 'n/a'}.`,
    );
  }
}
