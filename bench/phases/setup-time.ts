import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { analyseTone, readWav, type Pcm } from '../../lab/audio-analysis.js';
import { DirectCaller } from '../../lab/direct-caller.js';
import type { Lab } from '../../lab/lab.js';
import type { RoomPerson } from '../../lab/room-person.js';
import { WorkerPool } from '../../lab/worker-pool.js';
import { measured, missing, type Measured, type SetupSpan, type WorkerStart } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { WARM_START_CONCURRENCY, WARM_TIMEOUT_MS } from '../plan.js';
import { setupStepMedians, type SetupStepMedian } from './setup-steps.js';
import type { SetupTrace } from '../../contracts/setup-trace.js';
import { directUntilAnswered, hangUp, quickRequest, untilConnected, type BenchRun, type Figures, type Path } from './calls.js';

/**
 * Setup time: how soon, from the request, the phone gets the INVITE, answers, and hears the room, and the room hears
 * the phone, on each path, with a warm worker and with a browser launched on the request.
 */

/** Milliseconds from the request (enqueue, or the direct page's call) to each event. */
type SetupSample = Partial<Record<'invite' | 'answer' | 'audioAtPhone' | 'audioInRoom', number>> & {
  /** Roomline: the call record's setup trace. */
  readonly trace?: SetupTrace;
};

/**
 * `plan.warmCalls` setup calls on each path. On Fargate each worker has its task to itself; here all share two cores.
 * Workers are warmed in batches before the calls, so no Chromium starts while a call is timed (a used worker only
 * exits).
 */
export async function warmSetupTimes(
  run: BenchRun,
  person: RoomPerson,
  direct: DirectCaller,
  figures: Figures,
): Promise<SetupStepMedian[]> {
  const { lab, plan, env } = run;
  const warm = { roomline: [] as SetupSample[], direct: [] as SetupSample[] };
  let pool: WorkerPool | undefined;
  for (let done = 0; done < plan.warmCalls; ) {
    const batch = Math.min(plan.warmBatch, plan.warmCalls - done);
    await pool?.stop();
    pool = new WorkerPool({ size: batch, env, dir: lab.dir, name: `warm${done}`, replace: false, startConcurrency: WARM_START_CONCURRENCY });
    await pool.waitReady(batch, WARM_TIMEOUT_MS);
    for (let i = 0; i < batch; i++, done++) {
      const b = Date.now();
      warm.roomline.push(await roomlineSetupCall(run, person));
      const c = Date.now();
      warm.direct.push(await directSetupCall(run, direct));
      if (process.env['BENCH_VERBOSE'] === '1') run.out(`  call ${done + 1}: Roomline ${c - b} ms, direct ${Date.now() - c} ms`);
    }
  }
  setSetupFigures(figures, 'warm', warm);
  run.series.setup('warm', warm);
  await pool?.stop();
  const of = (pick: (s: SetupSample) => number | undefined) => warm.direct.map(pick).filter((v): v is number => v !== undefined);
  return setupStepMedians(
    warm.roomline.flatMap((s) => (s.trace === undefined ? [] : [s.trace])),
    warm.roomline.flatMap((s) => (s.invite === undefined ? [] : [s.invite])),
    { invite: of((s) => s.invite), answer: of((s) => s.answer), audioAtPhone: of((s) => s.audioAtPhone), audioInRoom: of((s) => s.audioInRoom) },
  );
}

/**
 * `plan.coldCalls` setup calls on each path with the browser launched on the request: a worker that does not prewarm,
 * and a direct page started for the call. Returns the median Chromium launch of the cold workers and their count.
 */
export async function coldSetupTimes(
  run: BenchRun,
  person: RoomPerson,
  figures: Figures,
): Promise<{ readonly launch: string; readonly workers: number }> {
  const { lab, plan, env } = run;
  const pool = new WorkerPool({ size: 1, env: { ...env, ROOMLINE_PREWARM: 'false' }, dir: lab.dir, name: 'cold' });
  const cold = { roomline: [] as SetupSample[], direct: [] as SetupSample[] };
  for (let i = 0; i < plan.coldCalls; i++) {
    await pool.waitReady(1);
    cold.roomline.push(await roomlineSetupCall(run, person));
    cold.direct.push(await directColdSetupCall(run));
  }
  const launched = { launch: await launchTimes(pool), workers: pool.workers.length };
  await pool.stop();
  setSetupFigures(figures, 'cold', cold);
  run.series.setup('cold', cold);
  return launched;
}

/** Median Chromium launch time of a pool's workers, from the "Chromium launched" line of each log. */
export async function launchTimes(pool: WorkerPool): Promise<string> {
  const times: number[] = [];
  for (const worker of pool.workers) {
    const text = await readFile(worker.logFile, 'utf8').catch(() => '');
    const line = text.split('\n').find((l) => l.includes('"msg":"Chromium launched"'));
    const launchMs = line === undefined ? undefined : (JSON.parse(line) as { launchMs?: number }).launchMs;
    if (launchMs !== undefined) times.push(launchMs);
  }
  return times.length === 0 ? 'n/a' : `${summarize(times).p50.toFixed(0)} ms`;
}

async function roomlineSetupCall(run: BenchRun, person: RoomPerson): Promise<SetupSample> {
  const { lab } = run;
  const t0 = Date.now();
  const callId = await lab.client.enqueueDial(quickRequest(lab));
  await untilConnected(lab, callId);
  await sleep(run.plan.talkMs);
  const final = await hangUp(lab, callId);
  if (final.state !== 'ENDED') run.logger.warn({ callId, state: final.state, failure: final.failure }, 'setup call failed');
  const sample = await measureEnds(lab, t0, (since) => person.recording(since));
  return final.setup === undefined ? sample : { ...sample, trace: final.setup };
}

async function directSetupCall(run: BenchRun, direct: DirectCaller): Promise<SetupSample> {
  const { lab } = run;
  const t0 = await direct.call(lab.endpoints.sip.phone);
  await directUntilAnswered(direct);
  await sleep(run.plan.talkMs);
  await direct.hangup();
  return measureEnds(lab, t0, (since) => direct.recording(since));
}

/** The baseline's cold start: a browser launched for the call, then the same call. Timed from the request. */
async function directColdSetupCall(run: BenchRun): Promise<SetupSample> {
  const { lab, logger } = run;
  const t0 = Date.now();
  const direct = await DirectCaller.start({ netns: lab.netns.name, janusUrl: lab.janus.wsUrl, apiSecret: lab.janus.apiSecret, toneHz: 440, logger });
  try {
    await direct.call(lab.endpoints.sip.phone);
    await directUntilAnswered(direct);
    await sleep(run.plan.talkMs);
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

function setSetupFigures(figures: Figures, start: WorkerStart, samples: Record<Path, SetupSample[]>): void {
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

function difference(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}
