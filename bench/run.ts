/**
 * `npm run bench [-- --quick]`: how soon the phone rings, how much delay the bridge adds, what a call costs, how many
 * calls a machine carries, measured on the real lab, side by side with the floor: a browser page calling the same
 * phone through the Janus SIP plugin, with no room and no bridge, in the same run. Writes bench/results/latest.json
 * and prints the Markdown table.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { CallRecord, LegQuality, QualitySummary } from '../contracts/call-record.js';
import { createLogger } from '../worker/logger.js';
import { analyseTone, readWav, type Pcm } from '../lab/audio-analysis.js';
import { DirectCaller } from '../lab/direct-caller.js';
import { LAB_ROOM_IDS } from '../lab/janus-server.js';
import { Lab } from '../lab/lab.js';
import type { RoomPerson } from '../lab/room-person.js';
import { writeCompositeVideo } from '../lab/test-video.js';
import { WorkerPool } from '../lab/worker-pool.js';
import { waitUntil } from '../lab/wait.js';
import { smallestTaskFor } from '../infra/fargate.js';
import { CpuCgroup } from './lib/cpu-cgroup.js';
import { UsageMeter, type UsageReport } from './lib/process-usage.js';
import {
  completeFigures,
  machineInfo,
  measured,
  missing,
  renderMarkdown,
  resultsJson,
  type BenchMode,
  type BenchResults,
  type FigureId,
  type FigureValues,
  type Measured,
  type SetupSpan,
  type WorkerStart,
} from './lib/report.js';
import {
  clickTrain,
  estimateDelays,
  estimateScheduledDelays,
  recoveredDelay,
  writeStereoWav16,
  type DelayEstimate,
  type ScheduledDelayEstimate,
} from './lib/signals.js';
import { summarize } from './lib/stats.js';

const mode: BenchMode = process.argv.includes('--quick') ? 'quick' : 'full';
/**
 * What each mode runs. Quick keeps every figure but the density of the variants (re-encoding, @sparticuz/chromium),
 * with fewer calls, shorter holds and two density levels (each level needs as many freshly warmed workers inside the
 * one-vCPU budget, which is most of a run's time).
 */
const PLAN = {
  quick: {
    warmCalls: 10,
    warmBatch: 5,
    coldCalls: 1,
    talkMs: 500,
    delayS: 10,
    costS: 5,
    videoS: 5,
    densityLevels: [2, 4],
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
    densityLevels: [2, 4, 6, 8, 10, 12, 14],
    variantDensity: true,
    holdS: 30,
    phoneAudioS: 240,
  },
}[mode];
/**
 * Clicks must be further apart than the delay search window: a delay beyond the window is taken for one a period
 * shorter. On a loaded 2-core machine a bridged call's one-way delay was seen near 500 ms, so the window reaches 850 ms.
 */
const CLICK_PERIOD_MS = 1_000;
/** Calls after the setup calls that need a warm worker: cost, delay, video. */
const LATER_CALLS = 3;
const DELAY_WINDOW = { minDelayS: -0.1, maxDelayS: 0.85 } as const;
/**
 * The calibration: a second train of falling chirps (which the rising chirps' detector does not see), each half a
 * period after a rising one, sent through a WebAudio DelayNode of a known delay at the sending page. Each one's
 * measured delay less its neighbour's is what the method recovers of the known delay, measured 0.5 s apart on the
 * same path (so a jitter buffer that grows or shrinks over the call moves both alike).
 */
const CALIBRATION_DELAY_MS = 100;
const CALIBRATION_CLICK = { fromHz: 3000, toHz: 500 } as const;
/**
 * Warm workers alive at once while warming for the timed calls: each holds an idle Chromium, and many launching
 * together on two cores take longer in all than in turns (23 at once did not get warm within 3 minutes on a fresh
 * 2-core machine). Two launch at a time.
 */
const WARM_START_CONCURRENCY = 2;
/** How long a batch of warm workers may take to get ready (a loaded 2-core machine launches Chromium in 20-30 s). */
const WARM_TIMEOUT_MS = 300_000;
const PERSON_COLOR = [200, 0, 200] as const;
/** The CPU budget the bridge's processes get in the density run (a cgroup quota), in cores: one vCPU. */
const DENSITY_CORES = 1;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const logger = createLogger({ level: 'warn', base: { component: 'bench' } });
const started = Date.now();
const loadAtStart = os.loadavg();
const out = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

type Path = 'roomline' | 'direct';
/** Milliseconds from the request (enqueue, or the direct page's call) to each event. */
type SetupSample = Partial<Record<'invite' | 'answer' | 'audioAtPhone' | 'audioInRoom', number>>;

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'roomline-bench-'));
  const composite = join(work, 'composite.mp4');
  const clicksWav = join(work, 'phone-clicks.wav');
  // the phone says clicks (for delays) over a quiet steady tone (so the first audio is heard at once, not at a click)
  const phoneClicks = clickTrain({ sampleRate: 48_000, durationS: PLAN.phoneAudioS, periodMs: CLICK_PERIOD_MS, startS: 0 });
  for (let i = 0; i < phoneClicks.samples.length; i++) {
    phoneClicks.samples[i] = phoneClicks.samples[i]! + 0.02 * Math.sin((2 * Math.PI * 1000 * i) / 48_000);
  }
  await Promise.all([
    writeCompositeVideo(composite, { durationS: 60 }),
    writeStereoWav16(clicksWav, phoneClicks.samples, 48_000),
  ]);

  out(`${mode} run: starting the lab`);
  const lab = await Lab.start({
    workers: 0,
    persons: [],
    phone: { audioFile: clicksWav, videoCodecs: ['H264'], videoFile: composite },
    logger,
  });
  const figures: Partial<Record<FigureId, FigureValues>> = {};
  const notes: string[] = [];
  let chromium = 'unknown';
  const env = { ...process.env, ...lab.endpoints.env, ROOMLINE_LOG_LEVEL: 'info', ROOMLINE_QUALITY_INTERVAL_S: '3', ROOMLINE_POLL_WAIT_S: '2' };
  try {
    const alice = await lab.addPerson({ display: 'Alice', toneHz: 440, color: PERSON_COLOR });
    const direct = await DirectCaller.start({ netns: lab.netns.name, janusUrl: lab.janus.wsUrl, apiSecret: lab.janus.apiSecret, toneHz: 440, logger });
    chromium = await direct.browser.browser.version();
    out(`setup time, warm: ${PLAN.warmCalls} calls on each path`);
    // On Fargate each worker has its task to itself; here all share two cores. Workers are warmed in batches before
    // the calls, so no Chromium starts while a call is timed (a used worker only exits).
    const warm = { roomline: [] as SetupSample[], direct: [] as SetupSample[] };
    let pool: WorkerPool | undefined;
    for (let done = 0; done < PLAN.warmCalls; ) {
      const batch = Math.min(PLAN.warmBatch, PLAN.warmCalls - done);
      await pool?.stop();
      pool = new WorkerPool({ size: batch, env, dir: lab.dir, name: `warm${done}`, replace: false, startConcurrency: WARM_START_CONCURRENCY });
      await pool.waitReady(batch, WARM_TIMEOUT_MS);
      for (let i = 0; i < batch; i++, done++) {
        const b = Date.now();
        warm.roomline.push(await roomlineSetupCall(lab, alice));
        const c = Date.now();
        warm.direct.push(await directSetupCall(lab, direct));
        if (process.env['BENCH_VERBOSE'] === '1') out(`  call ${done + 1}: Roomline ${c - b} ms, direct ${Date.now() - c} ms`);
      }
    }
    setSetupFigures(figures, 'warm', warm);
    // the workers of the cost, delay and video calls, warmed before any of them, so none launches during a measurement
    await pool?.stop();
    pool = new WorkerPool({ size: LATER_CALLS, env, dir: lab.dir, name: 'later', replace: false, startConcurrency: WARM_START_CONCURRENCY });
    await pool.waitReady(LATER_CALLS, WARM_TIMEOUT_MS);

    out(`cost and continuity: a steady ${PLAN.costS} s audio call on each path`);
    await pool.waitReady(1);
    const cost = await roomlineCostCall(lab, pool);
    const directCost = await directCostCall(lab, direct);
    setCostFigures(figures, cost, directCost, notes);

    out(
      `mouth-to-ear delay: ${PLAN.delayS} s of clicks each way on each path, with calibration clicks through a known ` +
        `${CALIBRATION_DELAY_MS} ms delay added at the sending page`,
    );
    await pool.waitReady(1);
    const delays = { roomline: await delayCall(lab, 'roomline', alice, direct), direct: await delayCall(lab, 'direct', alice, direct) };
    setDelayFigures(figures, delays, notes);

    out(`video: ${PLAN.videoS} s of 640x480@30 H.264 to SIP with the SIP picture split 2x2`);
    await pool.waitReady(1);
    notes.push(await videoCall(lab, pool));
    await pool.stop();

    out(`re-encoding: a steady ${PLAN.costS} s audio call and the delay clicks with encoded forwarding off`);
    const reencode = new WorkerPool({
      size: 2,
      env: { ...env, ROOMLINE_ENCODED_FORWARDING: 'off' },
      dir: lab.dir,
      name: 'reencode',
      replace: false,
      startConcurrency: WARM_START_CONCURRENCY,
    });
    await reencode.waitReady(2, WARM_TIMEOUT_MS);
    const reencodeCost = await roomlineCostCall(lab, reencode);
    await reencode.waitReady(1);
    const reencodeDelay = await delayCall(lab, 'roomline', alice, direct);
    await reencode.stop();
    setVariantFigures(figures, { id: 'reencode', call: 're-encoding' }, { cost: reencodeCost, delay: reencodeDelay }, { cost: directCost, delay: delays.direct }, notes);

    out(`@sparticuz/chromium: a steady ${PLAN.costS} s audio call and the delay clicks on workers running it`);
    const sparticuz = new WorkerPool({
      size: 2,
      // it runs single-process without Chromium's sandbox (as on Fargate, where the construct turns the sandbox off)
      env: { ...env, ROOMLINE_CHROMIUM: 'sparticuz', ROOMLINE_CHROMIUM_SANDBOX: 'off' },
      dir: lab.dir,
      name: 'sparticuz',
      replace: false,
      startConcurrency: 1,
    });
    await sparticuz.waitReady(2, 180_000);
    const sparticuzCost = await roomlineCostCall(lab, sparticuz);
    await sparticuz.waitReady(1);
    const sparticuzDelay = await delayCall(lab, 'roomline', alice, direct);
    const sparticuzLaunch = await launchTimes(sparticuz);
    await sparticuz.stop();
    setVariantFigures(figures, { id: 'sparticuz', call: '@sparticuz/chromium' }, { cost: sparticuzCost, delay: sparticuzDelay }, { cost: directCost, delay: delays.direct }, notes);

    out(`setup time, cold: ${PLAN.coldCalls} calls on each path (browser launched on the request)`);
    pool = new WorkerPool({ size: 1, env: { ...env, ROOMLINE_PREWARM: 'false' }, dir: lab.dir, name: 'cold' });
    const cold = { roomline: [] as SetupSample[], direct: [] as SetupSample[] };
    for (let i = 0; i < PLAN.coldCalls; i++) {
      await pool.waitReady(1);
      cold.roomline.push(await roomlineSetupCall(lab, alice));
      cold.direct.push(await directColdSetupCall(lab));
    }
    notes.push(
      `Chromium launch (from the workers' logs, one launching at a time), median: system build ${await launchTimes(pool)} ` +
        `(n=${pool.workers.length}, the cold workers), @sparticuz/chromium ${sparticuzLaunch} (n=2; it unpacks to /tmp on ` +
        'its first launch on a machine).',
    );
    await pool.stop();
    setSetupFigures(figures, 'cold', cold);

    out(`density: concurrent audio calls at ${PLAN.densityLevels.join(', ')}, the bridges in a ${DENSITY_CORES}-core cgroup`);
    await direct.close();
    const densityPersons: RoomPerson[] = [alice];
    const density = await densityRun(lab, env, densityPersons, work, { name: 'forwarded', env: {}, direct: true });
    figures['density.callsPerVcpu'] = density.figure;
    notes.push(fargateFromDensity(density.figure.roomline, cost.usage));
    figures['janus.coresPerCall'] = density.janus.cores;
    figures['janus.pssMbPerCall'] = density.janus.pssMb;
    notes.push(...density.notes);
    if (PLAN.variantDensity) {
      out('density, re-encoding');
      const reencodeDensity = await densityRun(lab, env, densityPersons, work, { name: 're-encoding', env: { ROOMLINE_ENCODED_FORWARDING: 'off' }, direct: false });
      figures['density.reencodeCallsPerVcpu'] = { ...reencodeDensity.figure, baseline: density.figure.baseline };
      notes.push(...reencodeDensity.notes);
      out('density, @sparticuz/chromium');
      const sparticuzDensity = await densityRun(lab, env, densityPersons, work, {
        name: '@sparticuz/chromium',
        env: { ROOMLINE_CHROMIUM: 'sparticuz', ROOMLINE_CHROMIUM_SANDBOX: 'off' },
        direct: false,
      });
      figures['density.sparticuzCallsPerVcpu'] = { ...sparticuzDensity.figure, baseline: density.figure.baseline };
      notes.push(...sparticuzDensity.notes);
    } else {
      const reason = 'measured in the full run only (npm run bench)';
      figures['density.reencodeCallsPerVcpu'] = { roomline: missing(reason), baseline: missing(reason) };
      figures['density.sparticuzCallsPerVcpu'] = { roomline: missing(reason), baseline: missing(reason) };
    }
  } finally {
    out('tearing the lab down');
    await lab.stop();
    await rm(work, { recursive: true, force: true });
  }

  const results: BenchResults = {
    version: 1,
    date: new Date(started).toISOString(),
    mode,
    machine: await machineInfo(chromium, loadAtStart),
    figures: completeFigures(figures, 'not measured in this run'),
    notes,
  };
  const resultsDir = join(root, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'latest.json'), resultsJson(results));
  process.stdout.write(`\n${renderMarkdown(results)}\n`);
  out(`done; results in bench/results/latest.json`);
}

// ---------------------------------------------------------------------------------------------------------------
// setup time

async function roomlineSetupCall(lab: Lab, person: RoomPerson): Promise<SetupSample> {
  const t0 = Date.now();
  const callId = await lab.client.enqueueDial(quickRequest(lab));
  await untilConnected(lab, callId);
  await sleep(PLAN.talkMs);
  const final = await hangUp(lab, callId);
  if (final.state !== 'ENDED') logger.warn({ callId, state: final.state, failure: final.failure }, 'setup call failed');
  return measureEnds(lab, t0, (since) => person.recording(since));
}

async function directSetupCall(lab: Lab, direct: DirectCaller): Promise<SetupSample> {
  const t0 = await direct.call(lab.endpoints.sip.phone);
  await directUntilAnswered(direct);
  await sleep(PLAN.talkMs);
  await direct.hangup();
  return measureEnds(lab, t0, (since) => direct.recording(since));
}

/** The baseline's cold start: a browser launched for the call, then the same call. Timed from the request. */
async function directColdSetupCall(lab: Lab): Promise<SetupSample> {
  const t0 = Date.now();
  const direct = await DirectCaller.start({ netns: lab.netns.name, janusUrl: lab.janus.wsUrl, apiSecret: lab.janus.apiSecret, toneHz: 440, logger });
  try {
    await direct.call(lab.endpoints.sip.phone);
    await directUntilAnswered(direct);
    await sleep(PLAN.talkMs);
    await direct.hangup();
    return await measureEnds(lab, t0, (since) => direct.recording(since));
  } finally {
    await direct.close();
  }
}

/**
 * When, as the phone saw it, the INVITE arrived and the call was answered, and when audio was first heard at each
 * end. The phone's recordings start with their first audio frame: what it sent starts at its answer (its own audio
 * begins then), what it received at the first audio it heard. The caller's first audio is the onset in its recording.
 * Both paths are measured the same way, at the same phone.
 */
async function measureEnds(
  lab: Lab,
  t0: number,
  heardAtCaller: (since: number) => Promise<{ pcm: Pcm; startedAt: number }>,
): Promise<SetupSample> {
  await lab.phone.nextEvent('CALL_CLOSED', { since: t0, timeoutMs: 5_000 }).catch(() => undefined);
  await lab.phone.keepRecordings();
  const invite = lab.phone.invitesSince(t0)[0];
  const answeredAt = (await lab.phone.recordingsSince(t0, 'enc'))[0]?.createdAt;
  const received = (await lab.phone.recordingsSince(t0, 'dec'))[0];
  const phoneOnset = received === undefined ? undefined : analyseTone(await readWav(received.path)).onsetS;
  // the phone's audio cannot reach the caller before the phone answered: look from then on
  const heard = await heardAtCaller(answeredAt === undefined ? t0 : answeredAt - 20);
  const callerOnset = analyseTone(heard.pcm).onsetS;
  return {
    ...(invite === undefined ? {} : { invite: invite.receivedAt - t0 }),
    ...(answeredAt === undefined ? {} : { answer: answeredAt - t0 }),
    ...(received === undefined || phoneOnset === undefined ? {} : { audioAtPhone: received.createdAt + phoneOnset * 1000 - t0 }),
    ...(callerOnset === undefined ? {} : { audioInRoom: heard.startedAt + callerOnset * 1000 - t0 }),
  };
}

function setSetupFigures(
  figures: Partial<Record<FigureId, FigureValues>>,
  start: WorkerStart,
  samples: Record<Path, SetupSample[]>,
): void {
  const spans: Record<SetupSpan, (s: SetupSample) => number | undefined> = {
    invite: (s) => s.invite,
    answer: (s) => s.answer,
    audioAtPhone: (s) => s.audioAtPhone,
    audioInRoom: (s) => s.audioInRoom,
    answerToAudioAtPhone: (s) => difference(s.audioAtPhone, s.answer),
    answerToAudioInRoom: (s) => difference(s.audioInRoom, s.answer),
  };
  for (const [span, pick] of Object.entries(spans) as [SetupSpan, (s: SetupSample) => number | undefined][]) {
    for (const stat of ['p50', 'p95'] as const) {
      const value = (path: Path): Measured => {
        const values = samples[path].map(pick).filter((v): v is number => v !== undefined);
        if (values.length === 0) return missing('no call measured it');
        return measured(summarize(values)[stat], values.length);
      };
      figures[`setup.${start}.${span}.${stat}`] = { roomline: value('roomline'), baseline: value('direct') };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// cost and continuity

interface CostMeasurement {
  readonly usage: UsageReport | undefined;
  readonly quality: LegQuality | undefined;
  readonly roomQuality: LegQuality | undefined;
}

async function roomlineCostCall(lab: Lab, pool: WorkerPool): Promise<CostMeasurement> {
  const callId = await lab.client.enqueueDial(quickRequest(lab));
  await untilConnected(lab, callId);
  const worker = pool.workers.find((w) => w.callId === callId);
  await sleep(2_000);
  const usage = worker?.child.pid === undefined ? undefined : await meter(worker.child.pid, PLAN.costS);
  const record = await hangUp(lab, callId);
  return { usage, quality: record.quality?.sip, roomQuality: record.quality?.room };
}

async function directCostCall(lab: Lab, direct: DirectCaller): Promise<CostMeasurement> {
  // the page's recorder is a measuring instrument, not part of a caller: off while its cost is measured
  await direct.setRecording(false);
  await direct.call(lab.endpoints.sip.phone);
  await directUntilAnswered(direct);
  await sleep(2_000);
  const pid = direct.browser.pid;
  const usage = pid === undefined ? undefined : await meter(pid, PLAN.costS);
  const quality = await direct.stats();
  await direct.hangup();
  await direct.setRecording(true);
  return { usage, quality, roomQuality: undefined };
}

async function meter(pid: number, seconds: number): Promise<UsageReport> {
  const usage = await UsageMeter.start(pid);
  usage.sampleEvery(1_000);
  await sleep(seconds * 1000);
  return usage.stop();
}

/** Median Chromium launch time of a pool's workers, from the "Chromium launched" line of each log. */
async function launchTimes(pool: WorkerPool): Promise<string> {
  const times: number[] = [];
  for (const worker of pool.workers) {
    const text = await readFile(worker.logFile, 'utf8').catch(() => '');
    const line = text.split('\n').find((l) => l.includes('"msg":"Chromium launched"'));
    const launchMs = line === undefined ? undefined : (JSON.parse(line) as { launchMs?: number }).launchMs;
    if (launchMs !== undefined) times.push(launchMs);
  }
  return times.length === 0 ? 'n/a' : `${summarize(times).p50.toFixed(0)} ms`;
}

/** A steady call's CPU, in cores, of the worker and its browser (or the direct page's). */
function coresOf(c: CostMeasurement): Measured {
  return c.usage === undefined ? missing('process not found') : measured(c.usage.cores);
}

/** A call's highest PSS, in MB, over all its processes. */
function pssMbOf(c: CostMeasurement): Measured {
  return c.usage === undefined ? missing('process not found') : measured(c.usage.maxPssBytes / 2 ** 20);
}

/** A direction's median mouth-to-ear delay, in ms, over the clicks found. */
function delayOf(estimate: DelayEstimate | undefined): Measured {
  return estimate?.medianS === undefined ? missing('no click found') : measured(estimate.medianS * 1000, estimate.found);
}

/** The cost and delay rows of a variant of the bridge (another Chromium build, or re-encoding), against the direct call. */
function setVariantFigures(
  figures: Partial<Record<FigureId, FigureValues>>,
  variant: { readonly id: 'sparticuz' | 'reencode'; readonly call: string },
  measuredCalls: { cost: CostMeasurement; delay: DelayCallResult },
  direct: { cost: CostMeasurement; delay: DelayCallResult },
  notes: string[],
): void {
  const { id } = variant;
  figures[`${id}.cores`] = { roomline: coresOf(measuredCalls.cost), baseline: coresOf(direct.cost), note: `steady ${PLAN.costS} s` };
  figures[`${id}.pssMb`] = { roomline: pssMbOf(measuredCalls.cost), baseline: pssMbOf(direct.cost), note: 'highest PSS over the call' };
  figures[`${id}.roomToPhone`] = { roomline: delayOf(measuredCalls.delay.roomToPhone), baseline: delayOf(direct.delay.roomToPhone) };
  figures[`${id}.phoneToRoom`] = { roomline: delayOf(measuredCalls.delay.phoneToRoom), baseline: delayOf(direct.delay.phoneToRoom) };
  const recovered = recoveredMs(measuredCalls.delay);
  notes.push(
    `Calibration on the ${variant.call} call: of the known ${CALIBRATION_DELAY_MS} ms the method recovered ` +
      (recovered.kind === 'value' ? `${recovered.value.toFixed(1)} ms (${recovered.n} pairs).` : `nothing (${recovered.reason}).`),
  );
}

function setCostFigures(
  figures: Partial<Record<FigureId, FigureValues>>,
  roomline: CostMeasurement,
  direct: CostMeasurement,
  notes: string[],
): void {
  figures['cost.cores'] = { roomline: coresOf(roomline), baseline: coresOf(direct), note: `steady ${PLAN.costS} s, worker + browser processes` };
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
    q?.audioIn?.jitterBufferMs === undefined ? missing('no inbound audio') : measured(q.audioIn.jitterBufferMs);
  figures['continuity.sipConcealedPercent'] = { roomline: concealed(roomline.quality), baseline: concealed(direct.quality) };
  figures['continuity.sipJitterBufferMs'] = { roomline: buffer(roomline.quality), baseline: buffer(direct.quality) };
  figures['continuity.roomConcealedPercent'] = { roomline: concealed(roomline.roomQuality), baseline: missing('a direct call has no room leg') };
  figures['continuity.roomJitterBufferMs'] = { roomline: buffer(roomline.roomQuality), baseline: missing('a direct call has no room leg') };
  const top = roomline.usage?.processes.slice(0, 4).map((p) => `${p.comm} ${(p.cpuSeconds / roomline.usage!.wallSeconds).toFixed(3)}`);
  if (top !== undefined) notes.push(`Where a bridged audio call's CPU goes (cores, by process): ${top.join(', ')}.`);
}

// ---------------------------------------------------------------------------------------------------------------
// mouth-to-ear delay

/** The delays of one call: each way, and room → phone again through the calibration's known delay. */
interface DelayCallResult {
  readonly roomToPhone: ScheduledDelayEstimate | undefined;
  readonly phoneToRoom: ScheduledDelayEstimate | undefined;
  /** The same path as `roomToPhone`, with CALIBRATION_DELAY_MS added at the sending page. */
  readonly calibrated: ScheduledDelayEstimate | undefined;
}

/**
 * One call with clicks both ways. The person (or the direct page) plays clicks, then a second train through a
 * DelayNode of CALIBRATION_DELAY_MS, reporting both trains' send times as the clicks before the delay; the phone
 * records what it received. The phone plays a click file from the call's start; its own recording of what it sent
 * locates each click in time. Each recording's timeline is fitted to the send schedule of the clicks in it (a
 * recording's clock may run several per cent off pace), then each click's delay is the wall time of its place in the
 * recording minus its send time.
 */
async function delayCall(lab: Lab, path: Path, person: RoomPerson, direct: DirectCaller): Promise<DelayCallResult> {
  const t0 = Date.now();
  let callId: string | undefined;
  if (path === 'roomline') {
    callId = await lab.client.enqueueDial(quickRequest(lab));
    await untilConnected(lab, callId);
  } else {
    await direct.call(lab.endpoints.sip.phone);
    await directUntilAnswered(direct);
  }
  await sleep(1_000);
  const voice = path === 'roomline' ? person : direct;
  await voice.playClicks({
    durationS: PLAN.delayS,
    periodMs: CLICK_PERIOD_MS,
    delayed: { addedDelayMs: CALIBRATION_DELAY_MS, shape: CALIBRATION_CLICK },
  });
  await sleep(PLAN.delayS * 1000 + CALIBRATION_DELAY_MS + 800);
  const { clickTimes, delayedClickTimes } = await voice.clicksPlayed();
  const heard = await voice.recording(t0);
  if (callId !== undefined) await hangUp(lab, callId);
  else await direct.hangup();
  await lab.phone.nextEvent('CALL_CLOSED', { since: t0, timeoutMs: 5_000 }).catch(() => undefined);
  await lab.phone.keepRecordings();

  const received = (await lab.phone.recordingsSince(t0, 'dec'))[0];
  const sent = (await lab.phone.recordingsSince(t0, 'enc'))[0];
  let roomToPhone: ScheduledDelayEstimate | undefined;
  let calibrated: ScheduledDelayEstimate | undefined;
  if (received !== undefined) {
    const pcm = await readWav(received.path);
    // a phone recording knows one point of its timeline: its last write
    const timeline = { anchors: [[pcm.samples.length / pcm.sampleRate, received.endedAt]] as const };
    roomToPhone = estimateScheduledDelays(pcm.samples, pcm.sampleRate, clickTimes, timeline, DELAY_WINDOW);
    calibrated = estimateScheduledDelays(pcm.samples, pcm.sampleRate, delayedClickTimes, timeline, {
      ...DELAY_WINDOW,
      click: CALIBRATION_CLICK,
    });
  }
  let phoneToRoom: ScheduledDelayEstimate | undefined;
  if (sent !== undefined) {
    const pcm = await readWav(sent.path);
    // where the phone's clicks actually are in what it sent (its file plays from the call's first frame)
    const atPhone = estimateDelays(pcm.samples, pcm.sampleRate, clickTrainOffsets(pcm.samples.length / pcm.sampleRate), DELAY_WINDOW);
    const firstSampleAt = endAnchoredStart(sent.endedAt, pcm);
    const emitted = atPhone.clicks
      .filter((c) => c.status === 'found')
      .map((c) => firstSampleAt + (c.expectedS + c.delayS!) * 1000);
    phoneToRoom =
      heard.anchors.length === 0
        ? undefined
        : estimateScheduledDelays(heard.pcm.samples, heard.pcm.sampleRate, emitted, heard, DELAY_WINDOW);
  }
  return { roomToPhone, phoneToRoom, calibrated };
}

/** Wall time of a phone recording's first sample, from its last write (see SipPhone.recordingsSince). */
function endAnchoredStart(endedAt: number, pcm: Pcm): number {
  return endedAt - (pcm.samples.length / pcm.sampleRate) * 1000;
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

function clickTrainOffsets(durationS: number): number[] {
  const offsets: number[] = [];
  for (let t = 0; t + 0.02 < durationS; t += CLICK_PERIOD_MS / 1000) offsets.push(t);
  return offsets;
}

function setDelayFigures(
  figures: Partial<Record<FigureId, FigureValues>>,
  delays: Record<Path, DelayCallResult>,
  notes: string[],
): void {
  figures['delay.roomToPhone'] = { roomline: delayOf(delays.roomline.roomToPhone), baseline: delayOf(delays.direct.roomToPhone) };
  figures['delay.phoneToRoom'] = { roomline: delayOf(delays.roomline.phoneToRoom), baseline: delayOf(delays.direct.phoneToRoom) };
  figures['delay.calibrationRecovered'] = {
    roomline: recoveredMs(delays.roomline),
    baseline: recoveredMs(delays.direct),
    note: `${CALIBRATION_DELAY_MS} ms added at the sending page by a WebAudio DelayNode, room → phone`,
  };
  const lost = (e: DelayEstimate | undefined) => (e === undefined ? 'n/a' : `${e.missing} of ${e.found + e.missing}`);
  notes.push(
    `Delay clicks not found (lost or distorted): Roomline ${lost(delays.roomline.roomToPhone)} room → phone, ` +
      `${lost(delays.roomline.phoneToRoom)} phone → room; direct ${lost(delays.direct.roomToPhone)} and ${lost(delays.direct.phoneToRoom)}.`,
  );
  const clock = (e: ScheduledDelayEstimate | undefined) =>
    e?.fit === undefined
      ? 'n/a'
      : `${((e.fit.scale - 1) * 100).toFixed(2)} % (${e.fit.inliers} clicks, ${(e.fit.rmsResidualS * 1000).toFixed(1)} ms rms off the fit)`;
  notes.push(
    'Recording clocks against the sender, fitted from the clicks (0 %: the same pace): ' +
      `Roomline room → phone ${clock(delays.roomline.roomToPhone)}, phone → room ${clock(delays.roomline.phoneToRoom)}; ` +
      `direct ${clock(delays.direct.roomToPhone)} and ${clock(delays.direct.phoneToRoom)}.`,
  );
  const error = (m: Measured) => (m.kind === 'value' ? `${(m.value - CALIBRATION_DELAY_MS).toFixed(1)} ms` : 'n/a');
  notes.push(
    `Calibration: of a known ${CALIBRATION_DELAY_MS} ms added at the sending page, the method recovered ` +
      `${error(figures['delay.calibrationRecovered'].roomline)} off on the Roomline path and ` +
      `${error(figures['delay.calibrationRecovered'].baseline)} off on the direct path (median over the pairs of a ` +
      'calibration click and the click sent 0.5 s before it of the difference of their delays).',
  );
}

/** What the method recovered of the calibration's known delay (see `recoveredDelay`), in ms. */
function recoveredMs(d: DelayCallResult): Measured {
  if (d.calibrated === undefined || d.roomToPhone === undefined) return missing('no recording');
  const recovered = recoveredDelay(d.roomToPhone, d.calibrated);
  return recovered === undefined ? missing('no pair of clicks found') : measured(recovered.medianS * 1000, recovered.pairs);
}

// ---------------------------------------------------------------------------------------------------------------
// video

async function videoCall(lab: Lab, pool: WorkerPool): Promise<string> {
  const callId = await lab.client.enqueueDial(
    lab.dialRequest({
      media: { video: 'sendrecv', sipVideoCodec: 'H264', splitIncoming: { rows: 2, cols: 2 } },
      limits: { ringTimeoutS: 10, maxDurationS: 600, emptyRoomTimeoutS: 0 },
    }),
  );
  await untilConnected(lab, callId);
  const worker = pool.workers.find((w) => w.callId === callId);
  // the worker writes the call's quality into its record every 3 s here: frames are counted between two of them
  const before = (await lab.client.waitForCall(callId, (r) => r.quality !== undefined, { timeoutMs: 15_000 })).quality;
  const usage = worker?.child.pid === undefined ? undefined : await meter(worker.child.pid, PLAN.videoS);
  const after = (
    await lab.client.waitForCall(callId, (r) => r.quality !== undefined && r.quality.sampledAt !== before?.sampledAt, {
      timeoutMs: 15_000,
    })
  ).quality;
  const record = await hangUp(lab, callId);
  const seconds =
    before === undefined || after === undefined ? undefined : (Date.parse(after.sampledAt) - Date.parse(before.sampledAt)) / 1000;
  const frames = (pick: (q: NonNullable<typeof before>) => number | undefined) =>
    before === undefined || after === undefined ? undefined : (pick(after) ?? 0) - (pick(before) ?? 0);
  const fps = (count: number | undefined, feeds = 1) =>
    count === undefined || seconds === undefined || seconds <= 0 ? 'n/a' : (count / feeds / seconds).toFixed(1);
  const q = {
    sip: {
      videoOut: { frames: frames((x) => x.sip.videoOut?.frames), codec: after?.sip.videoOut?.codec },
      videoIn: { frames: frames((x) => x.sip.videoIn?.frames), codec: after?.sip.videoIn?.codec, freezes: record.quality?.sip.videoIn?.freezes },
    },
    room: { videoOut: { frames: frames((x) => x.room.videoOut?.frames), codec: after?.room.videoOut?.codec } },
  };
  return (
    `Video call (640x480@30, H.264 to the SIP peer, its picture split 2x2 into four room feeds; steady ${PLAN.videoS} s): ` +
    `worker + browser ${
      usage === undefined
        ? 'n/a'
        : `${usage.cores.toFixed(3)} cores, PSS ${mb(usage.meanPssBytes)} MB mean, ${mb(usage.maxPssBytes)} MB highest, ` +
          `${mb(usage.pssBytes)} MB at the end`
    } ` +
    `(aim ≤ 0.6 cores); frames per second over the steady window: room → SIP ${fps(q?.sip.videoOut?.frames)} encoded ` +
    `(${q?.sip.videoOut?.codec ?? '?'}), SIP → bridge ${fps(q?.sip.videoIn?.frames)} decoded (${q?.sip.videoIn?.codec ?? '?'}), ` +
    `bridge → room ${fps(q?.room.videoOut?.frames, 4)} per tile encoded (${q?.room.videoOut?.codec ?? '?'}); freezes ` +
    `${q?.sip.videoIn?.freezes ?? 'n/a'} (aim ≥ 28 fps each way).`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// density

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

/** What Janus uses per call: its usage over a held level, less its idle usage, divided by the calls. */
interface JanusPerCall {
  readonly cores: FigureValues;
  readonly pssMb: FigureValues;
}

/**
 * Density that means one bridge: the workers (and every Chromium process they start) run inside a cgroup with a CPU
 * quota of DENSITY_CORES while the lab (people, Janus, the phone) runs outside; levels of concurrent calls are held
 * until one fails the quality bar. The direct callers get the same cgroup. Janus's CPU and PSS are metered over each
 * held level, against its idle usage, for what one call costs it.
 */
async function densityRun(
  lab: Lab,
  env: NodeJS.ProcessEnv,
  /** One person per density room, Alice first: added as levels need them, shared by every variant's run. */
  persons: RoomPerson[],
  work: string,
  variant: { readonly name: string; readonly env: NodeJS.ProcessEnv; /** Also measure the direct call's density. */ readonly direct: boolean },
): Promise<{ figure: FigureValues; janus: JanusPerCall; notes: string[] }> {
  const notes: string[] = [];
  const janusPid = lab.janus.process.child.pid;
  const janusIdle = janusPid === undefined ? undefined : await meter(janusPid, Math.min(5, PLAN.holdS));
  const cgroup = await CpuCgroup.create({ name: `roomline-bench-${process.pid}`, cores: DENSITY_CORES, nodePath: process.execPath, dir: work });
  const janusAt: { roomline?: { calls: number; usage: UsageReport }; direct?: { calls: number; usage: UsageReport } } = {};
  try {
    let best = 0;
    let reason = 'no level passed';
    for (const calls of PLAN.densityLevels) {
      while (persons.length < calls) {
        persons.push(
          await lab.addPerson({ display: `Person ${persons.length + 1}`, toneHz: 440, record: false }, LAB_ROOM_IDS[persons.length]),
        );
      }
      const pool = new WorkerPool({
        size: calls,
        env: { ...env, ...variant.env },
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
          break;
        }
        const throttledBefore = await cgroup.throttling();
        const callIds = await Promise.all(
          Array.from({ length: calls }, (_, i) => lab.client.enqueueDial(quickRequest(lab, LAB_ROOM_IDS[i]!))),
        );
        await Promise.all(callIds.map((id) => untilConnected(lab, id, 60_000).catch(() => undefined)));
        // judged on the steady window between two of each call's quality samples, not on call setup
        const first = await Promise.all(callIds.map((id) => qualitySample(lab, id)));
        const janus = janusPid === undefined ? undefined : meter(janusPid, PLAN.holdS);
        await sleep(PLAN.holdS * 1000);
        const second = await Promise.all(callIds.map((id, i) => qualitySample(lab, id, first[i]?.sampledAt)));
        const janusUsage = await janus;
        const throttled = await cgroup.throttling();
        const records = await Promise.all(callIds.map((id) => hangUp(lab, id)));
        const windows = records.map((record, i) => ({ record, window: qualityWindow(first[i], second[i]) }));
        const bad = windows.filter((w) => w.record.state !== 'ENDED' || !w.window.good);
        const periods = throttled.periods - throttledBefore.periods;
        notes.push(
          `Density (${variant.name}) at ${calls} calls in ${DENSITY_CORES} vCPU: ${calls - bad.length} met loss < 1% and concealment < 2% on ` +
            `both legs over ${PLAN.holdS} s` +
            (bad.length === 0 ? '' : ` (worst: ${bad[0]!.record.state}, ${bad[0]!.window.summary})`) +
            `; the cgroup was throttled in ${throttled.throttledPeriods - throttledBefore.throttledPeriods} of ${periods} ` +
            `periods (${(throttled.throttledMs - throttledBefore.throttledMs).toFixed(0)} ms held back).`,
        );
        if (bad.length > 0) {
          reason = `${calls} calls failed the criteria`;
          break;
        }
        best = calls;
        if (janusUsage !== undefined) janusAt.roomline = { calls, usage: janusUsage };
      } finally {
        await pool.stop();
      }
    }
    const directBest = variant.direct
      ? await directDensity(lab, cgroup, notes, (calls, usage) => {
          janusAt.direct = { calls, usage };
        })
      : missing('measured once, with the forwarded calls');
    const perVcpu = (calls: Measured): Measured => (calls.kind === 'value' ? measured(calls.value / DENSITY_CORES) : calls);
    const perCall = (at: { calls: number; usage: UsageReport } | undefined, pick: (u: UsageReport) => number): Measured =>
      at === undefined || janusIdle === undefined
        ? missing('no level passed with Janus metered')
        : measured(Math.max(0, pick(at.usage) - pick(janusIdle)) / at.calls, at.calls);
    return {
      figure: {
        roomline: perVcpu(best === 0 ? missing(reason) : measured(best)),
        baseline: perVcpu(directBest),
        note: `${DENSITY_CORES} vCPU quota (cgroup ${cgroup.version}) on worker + Chromium, or the direct caller's Chromium; levels tried: ${PLAN.densityLevels.join(', ')}; each held ${PLAN.holdS} s`,
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
    await cgroup.remove().catch((error: unknown) => logger.warn({ err: error }, 'the density cgroup could not be removed'));
  }
}

async function directDensity(
  lab: Lab,
  cgroup: CpuCgroup,
  notes: string[],
  janusAt: (calls: number, usage: UsageReport) => void,
): Promise<Measured> {
  let best = 0;
  const janusPid = lab.janus.process.child.pid;
  for (const calls of PLAN.densityLevels) {
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
      const janus = janusPid === undefined ? undefined : meter(janusPid, PLAN.holdS);
      await sleep(PLAN.holdS * 1000);
      const second = await Promise.all(callers.map((c) => c.stats()));
      const janusUsage = await janus;
      await Promise.all(callers.map((c) => c.hangup()));
      const now = new Date().toISOString();
      // a direct call has one leg: it is judged on it alone (its "room" is the caller page)
      const bad = first.filter(
        (q, i) => !qualityWindow({ sampledAt: now, sip: q, room: q }, { sampledAt: now, sip: second[i]!, room: second[i]! }).good,
      );
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

/** Loss and concealment of the audio received on each leg between two quality samples. */
function qualityWindow(
  before: QualitySummary | undefined,
  after: QualitySummary | undefined,
): { good: boolean; summary: string } {
  if (before === undefined || after === undefined) return { good: false, summary: 'no quality samples' };
  const leg = (name: 'sip' | 'room') => {
    const a = before[name].audioIn;
    const b = after[name].audioIn;
    if (a === undefined || b === undefined) return { good: false, text: `${name}: no audio` };
    const packets = b.packets - a.packets;
    const lost = (b.packetsLost ?? 0) - (a.packetsLost ?? 0);
    const samples = (b.samples ?? 0) - (a.samples ?? 0);
    const concealed = (b.concealedSamples ?? 0) - (a.concealedSamples ?? 0);
    const loss = packets + lost > 0 ? lost / (packets + lost) : 1;
    const concealment = samples > 0 ? concealed / samples : 1;
    return {
      good: packets > 0 && loss < 0.01 && concealment < 0.02,
      text: `${name} loss ${(loss * 100).toFixed(2)}%, concealed ${(concealment * 100).toFixed(2)}%`,
    };
  };
  const sip = leg('sip');
  const room = leg('room');
  return { good: sip.good && room.good, summary: `${sip.text}; ${room.text}` };
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

function quickRequest(lab: Lab, roomId: number = lab.endpoints.room.roomId) {
  return lab.dialRequest({
    room: { ...lab.endpoints.room, roomId, display: 'Phone' },
    limits: { ringTimeoutS: 10, maxDurationS: 600, emptyRoomTimeoutS: 0 },
  });
}

async function untilConnected(lab: Lab, callId: string, timeoutMs = 20_000): Promise<CallRecord> {
  return lab.client.waitForCall(callId, (r) => r.state === 'CONNECTED' || r.state === 'ENDED' || r.state === 'FAILED', {
    timeoutMs,
    intervalMs: 50,
  });
}

async function hangUp(lab: Lab, callId: string): Promise<CallRecord> {
  await lab.client.requestHangup(callId);
  return lab.client.waitForCall(callId, (r) => r.state === 'ENDED' || r.state === 'FAILED', { timeoutMs: 20_000, intervalMs: 50 });
}

async function directUntilAnswered(direct: DirectCaller): Promise<number> {
  let answeredAt: number | undefined;
  await waitUntil(
    async () => {
      const state = await direct.state();
      answeredAt = state.acceptedAt;
      return answeredAt !== undefined || state.endedAt !== undefined;
    },
    { timeoutMs: 15_000, what: 'the direct call to be answered', intervalMs: 20 },
  );
  if (answeredAt === undefined) throw new Error('the direct call ended without an answer');
  return answeredAt;
}

function difference(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

await main();
