/**
 * `npm run bench [-- --quick]`: how soon the phone rings, how much delay the bridge adds, what a call costs, how many
 * calls a machine carries, measured on the real lab, side by side with the floor: a browser page calling the same
 * phone through the Janus SIP plugin, with no room and no bridge, in the same run. Writes bench/results/latest.json, its
 * plots beside it (bench/plots/), and prints the Markdown table.
 *
 * This file runs the phases (bench/phases/) in their order on one lab and writes the results.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../worker/logger.js';
import { DirectCaller } from '../lab/direct-caller.js';
import { Lab } from '../lab/lab.js';
import { writeCompositeVideo } from '../lab/test-video.js';
import { WorkerPool } from '../lab/worker-pool.js';
import { completeFigures, machineInfo, renderMarkdown, resultsJson, type BenchMode, type BenchResults } from './lib/report.js';
import { BENCH_PLANS, WARM_START_CONCURRENCY, WARM_TIMEOUT_MS } from './plan.js';
import { describeOutcomes, writePlots } from './plots/render.js';
import { SeriesRecorder } from './plots/series.js';
import type { BenchRun, Figures } from './phases/calls.js';
import { directCostCall, roomlineCostCall, setCostFigures } from './phases/cost.js';
import { CALIBRATION_DELAY_MS, delayCall, setDelayFigures, writePhoneClicks } from './phases/delay.js';
import { DENSITY_CORES, densityFigures } from './phases/density.js';
import { coldSetupTimes, warmSetupTimes } from './phases/setup-time.js';
import { BRIDGE_VARIANTS, variantCalls } from './phases/variants.js';
import { renderSetupSteps, type SetupStepMedian } from './phases/setup-steps.js';
import { measuredCommit } from './lib/commit.js';
import { compareAndExit } from './lib/compare-command.js';
import { videoCall } from './phases/video.js';

if (await compareAndExit(process.argv)) process.exit(0);
const mode: BenchMode = process.argv.includes('--quick') ? 'quick' : 'full';
const PLAN = BENCH_PLANS[mode];
/** Calls after the setup calls that need a warm worker: cost, delay, video. */
const LATER_CALLS = 3;
const PERSON_COLOR = [200, 0, 200] as const;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const logger = createLogger({ level: 'warn', base: { component: 'bench' } });
const started = Date.now();
const loadAtStart = os.loadavg();
const out = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'roomline-bench-'));
  const composite = join(work, 'composite.mp4');
  const clicksWav = join(work, 'phone-clicks.wav');
  await Promise.all([writeCompositeVideo(composite, { durationS: 60 }), writePhoneClicks(clicksWav, PLAN.phoneAudioS)]);

  out(`${mode} run: starting the lab`);
  const lab = await Lab.start({
    workers: 0,
    persons: [],
    phone: { audioFile: clicksWav, videoCodecs: ['H264'], videoFile: composite },
    logger,
  });
  const figures: Figures = {};
  const notes: string[] = [];
  let chromium = 'unknown';
  let setupSteps: SetupStepMedian[] = [];
  const env = { ...process.env, ...lab.endpoints.env, ROOMLINE_LOG_LEVEL: 'info', ROOMLINE_QUALITY_INTERVAL_S: '3', ROOMLINE_POLL_WAIT_S: '2' };
  const run: BenchRun = { lab, plan: PLAN, env, logger, out, series: new SeriesRecorder() };
  try {
    const alice = await lab.addPerson({ display: 'Alice', toneHz: 440, color: PERSON_COLOR });
    const direct = await DirectCaller.start({ netns: lab.netns.name, janusUrl: lab.janus.wsUrl, apiSecret: lab.janus.apiSecret, toneHz: 440, logger });
    chromium = await direct.browser.browser.version();
    out(`setup time, warm: ${PLAN.warmCalls} calls on each path`);
    setupSteps = await warmSetupTimes(run, alice, direct, figures);
    // the workers of the cost, delay and video calls, warmed before any of them, so none launches during a measurement
    const pool = new WorkerPool({ size: LATER_CALLS, env, dir: lab.dir, name: 'later', replace: false, startConcurrency: WARM_START_CONCURRENCY });
    await pool.waitReady(LATER_CALLS, WARM_TIMEOUT_MS);

    out(`cost and continuity: a steady ${PLAN.costS} s audio call on each path`);
    await pool.waitReady(1);
    const cost = await roomlineCostCall(run, pool);
    const directCost = await directCostCall(run, direct);
    setCostFigures(run, figures, cost, directCost, notes);

    out(
      `mouth-to-ear delay: ${PLAN.delayS} s of clicks each way on each path, with calibration clicks through a known ` +
        `${CALIBRATION_DELAY_MS} ms delay added at the sending page`,
    );
    await pool.waitReady(1);
    const delays = { roomline: await delayCall(run, 'roomline', alice, direct), direct: await delayCall(run, 'direct', alice, direct) };
    setDelayFigures(figures, delays, notes);
    run.series.delays(delays, CALIBRATION_DELAY_MS);

    out(`video: ${PLAN.videoS} s of 640x480@30 H.264 to SIP with the SIP picture split 2x2`);
    await pool.waitReady(1);
    notes.push(await videoCall(run, pool));
    await pool.stop();

    const baseline = { caller: direct, cost: directCost, delay: delays.direct };
    out(`re-encoding: a steady ${PLAN.costS} s audio call and the delay clicks with encoded forwarding off`);
    await variantCalls(run, BRIDGE_VARIANTS.reencode, alice, baseline, figures, notes);
    out(`@sparticuz/chromium: a steady ${PLAN.costS} s audio call and the delay clicks on workers running it`);
    const sparticuz = await variantCalls(run, BRIDGE_VARIANTS.sparticuz, alice, baseline, figures, notes);

    out(`setup time, cold: ${PLAN.coldCalls} calls on each path (browser launched on the request)`);
    const cold = await coldSetupTimes(run, alice, figures);
    notes.push(
      `Chromium launch (from the workers' logs, one launching at a time), median: system build ${cold.launch} ` +
        `(n=${cold.workers}, the cold workers), @sparticuz/chromium ${sparticuz.launch} (n=2; it unpacks to /tmp on ` +
        'its first launch on a machine).',
    );

    out(`density: concurrent audio calls at ${PLAN.densityLevels.join(', ')}, the bridges in a ${DENSITY_CORES}-core cgroup`);
    await direct.close();
    await densityFigures(run, alice, work, cost.usage, figures, notes);
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
    series: run.series.toJson(),
    commit: await measuredCommit(root),
    setupSteps,
  };
  const resultsDir = join(root, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'latest.json'), resultsJson(results));
  for (const line of describeOutcomes(await writePlots(join(resultsDir, 'latest.json'), results))) out(line);
  process.stdout.write(`\n${renderMarkdown(results)}\n\n${renderSetupSteps(setupSteps)}\n`);
  out(`done; results in bench/results/latest.json`);
}

await main();
