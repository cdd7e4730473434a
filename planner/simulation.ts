import { warmPoolDemand, warmPoolShortfall, warmPoolStepChange } from '../infra/warm-pool-scaling.js';
import type { ScalingPolicy } from './policy.js';
import { draw, type Distribution, type Random } from './random.js';

/**
 * One run of the warm pool, second by second, as the construct deploys it (`infra/constructs/worker-service.ts`):
 *
 * - The ECS service keeps `desired` tasks running. A task starts (the task-start draw), then waits idle; it takes
 *   one call, and when the call ends it exits, so the service starts a fresh one (worker.ts: one call, then exit).
 * - Busy tasks have scale-in protection (worker/aws/task-protection.ts): a scale-in stops idle or starting tasks only,
 *   the newest first; a busy task above the desired count exits after its call and is not replaced.
 * - Each task samples its state once a minute at its own second, 5 to 49 (worker/aws/emf-metrics.ts
 *   WorkerStateGauge): a minute's `busy` datapoint is the number of tasks busy at their sample; a starting task
 *   reports nothing. `waiting` is the minute's Maximum of requests not yet taken (ApproximateNumberOfMessagesVisible),
 *   `desired` the minute's Average of the desired count (Container Insights DesiredTaskCount).
 * - Alarms see a minute's datapoint `metricLagS` after it ends. Target tracking scales out to
 *   `ceil(capacity × demand / target)` when its last 3 datapoints are over the target and scales in when its last 15
 *   are under 90% of it; the step scale-out adds the shortfall when its last datapoint shows one. With both, the larger
 *   capacity wins (as Application Auto Scaling does). Capacity stays within `minIdleWorkers..maxWorkers`.
 *
 * Times are whole seconds; a request taken in the second it arrives waited 0 s.
 */
export interface SimulationInput {
  readonly policy: ScalingPolicy;
  /** From the service deciding to run a task to the task taking a call. */
  readonly taskStart: Distribution;
  /** Arrival second of each call, ascending. */
  readonly arrivals: readonly number[];
  /** Length of each call in seconds (its index matches `arrivals`). */
  readonly durations: readonly number[];
  /** Seconds simulated (calls still waiting at the end are followed until taken). */
  readonly horizonS: number;
  /** For task starts and sample seconds. */
  readonly random: Random;
}

export interface CallOutcome {
  readonly arrivalS: number;
  /** Seconds from arrival to a worker taking the call (before the phone rings). */
  readonly waitS: number;
}

export interface ScalingEvent {
  readonly atS: number;
  readonly from: number;
  readonly to: number;
  readonly by: 'target-tracking-out' | 'step-out' | 'target-tracking-in';
}

export interface SimulationResult {
  readonly calls: readonly CallOutcome[];
  readonly scaling: readonly ScalingEvent[];
  /** Task-seconds not in a call (starting or idle): what the warm pool costs beyond the calls. */
  readonly idleTaskSeconds: number;
  readonly busyTaskSeconds: number;
  readonly simulatedS: number;
}

type Task = { state: 'starting' | 'idle' | 'busy'; readyAt: number; endAt: number; readonly sampleSecond: number; readonly startedAt: number };

interface Minute {
  busy: number;
  waiting: number;
  desiredSum: number;
}

export function simulate(input: SimulationInput): SimulationResult {
  const { policy, random } = input;
  const period = policy.periodS;
  const sampleSecond = () => 5 + Math.floor(random() * 45);
  const newTask = (t: number): Task => ({ state: 'starting', readyAt: t + Math.max(0, Math.round(draw(input.taskStart, random))), endAt: 0, sampleSecond: sampleSecond(), startedAt: t });

  let desired = policy.minIdleWorkers;
  let tasks: Task[] = Array.from({ length: desired }, () => ({ state: 'idle' as const, readyAt: 0, endAt: 0, sampleSecond: sampleSecond(), startedAt: 0 }));
  const queue: number[] = [];
  const calls: CallOutcome[] = [];
  const scaling: ScalingEvent[] = [];
  const minutes: Minute[] = [];
  let next = 0;
  let idleTaskSeconds = 0;
  let busyTaskSeconds = 0;
  // cooldown state: when each kind of activity last happened, and the capacity it started from
  let lastOut = { atS: -Infinity, from: desired };
  let lastStep = { atS: -Infinity, from: desired };
  let lastIn = -Infinity;

  const setDesired = (t: number, to: number, by: ScalingEvent['by']) => {
    scaling.push({ atS: t, from: desired, to, by });
    desired = to;
  };

  const evaluate = (t: number, m: number) => {
    const point = (k: number) => {
      const minute = minutes[k]!;
      return { busy: minute.busy, waiting: minute.waiting, desired: minute.desiredSum / period };
    };
    const demand = (k: number) => warmPoolDemand(point(k), policy.minIdleWorkers);
    const last = (n: number) => (m + 1 >= n ? Array.from({ length: n }, (_, i) => m - i) : undefined);
    let candidate = desired;
    let by: ScalingEvent['by'] | undefined;
    // target tracking's AlarmHigh: the last N datapoints over the target
    const high = last(policy.scaleOutDatapoints);
    if (high !== undefined && high.every((k) => demand(k) > policy.targetValue)) {
      const base = t - lastOut.atS < policy.scaleOutCooldownS ? lastOut.from : desired;
      const capacity = Math.ceil((base * demand(m)) / policy.targetValue - 1e-9);
      if (capacity > candidate) [candidate, by] = [capacity, 'target-tracking-out'];
    }
    // the step scale-out: the last datapoint(s) short of workers
    const step = policy.step;
    const stepPoints = step === undefined ? undefined : last(step.datapoints);
    if (step !== undefined && stepPoints !== undefined && stepPoints.every((k) => warmPoolShortfall(point(k), policy.minIdleWorkers) >= step.threshold)) {
      const base = t - lastStep.atS < step.cooldownS ? lastStep.from : desired;
      const capacity = base + warmPoolStepChange(warmPoolShortfall(point(m), policy.minIdleWorkers));
      if (capacity > candidate) [candidate, by] = [capacity, 'step-out'];
    }
    candidate = Math.min(policy.maxWorkers, candidate);
    if (by !== undefined && candidate > desired) {
      if (by === 'step-out') lastStep = { atS: t, from: desired };
      else lastOut = { atS: t, from: desired };
      setDesired(t, candidate, by);
      return;
    }
    // target tracking's AlarmLow: the last N datapoints under 90% of the target
    const low = last(policy.scaleInDatapoints);
    const outAgo = t - Math.max(lastOut.atS, lastStep.atS);
    if (low === undefined || t - lastIn < policy.scaleInCooldownS || outAgo < policy.scaleOutCooldownS) return;
    if (low.every((k) => demand(k) < policy.scaleInThresholdRatio * policy.targetValue)) {
      const capacity = Math.max(policy.minIdleWorkers, Math.ceil((desired * demand(m)) / policy.targetValue - 1e-9));
      if (capacity < desired) {
        lastIn = t;
        setDesired(t, capacity, 'target-tracking-in');
      }
    }
  };

  const limit = input.horizonS + 6 * 3600;
  let t = 0;
  for (; t < input.horizonS || (queue.length > 0 && t < limit); t++) {
    // tasks become idle, calls end and their tasks exit
    for (const task of tasks) if (task.state === 'starting' && task.readyAt <= t) task.state = 'idle';
    tasks = tasks.filter((task) => !(task.state === 'busy' && task.endAt <= t));
    while (next < input.arrivals.length && input.arrivals[next]! <= t) queue.push(next++);
    // the alarms read the datapoints of the minutes that ended metricLagS ago
    const seen = t - policy.metricLagS;
    if (seen >= period && seen % period === 0) evaluate(t, seen / period - 1);
    // the service: start tasks up to the desired count, or stop unprotected ones (newest first) down to it
    if (tasks.length < desired) {
      for (let n = tasks.length; n < desired; n++) tasks.push(newTask(t));
      for (const task of tasks) if (task.state === 'starting' && task.readyAt <= t) task.state = 'idle';
    } else if (tasks.length > desired) {
      const stoppable = tasks.filter((task) => task.state !== 'busy').sort((a, b) => b.startedAt - a.startedAt);
      const stop = new Set(stoppable.slice(0, tasks.length - desired));
      tasks = tasks.filter((task) => !stop.has(task));
    }
    // idle workers take waiting requests, oldest first
    for (const task of tasks) {
      if (queue.length === 0) break;
      if (task.state !== 'idle') continue;
      const call = queue.shift()!;
      task.state = 'busy';
      task.endAt = t + Math.max(1, Math.round(input.durations[call]!));
      calls[call] = { arrivalS: input.arrivals[call]!, waitS: t - input.arrivals[call]! };
    }
    // this second's share of the minute's datapoints
    const minute = (minutes[Math.floor(t / period)] ??= { busy: 0, waiting: 0, desiredSum: 0 });
    const second = t % period;
    let busyNow = 0;
    for (const task of tasks) {
      if (task.state === 'busy') {
        busyNow++;
        if (task.sampleSecond === second) minute.busy++;
      }
    }
    minute.waiting = Math.max(minute.waiting, queue.length);
    minute.desiredSum += desired;
    busyTaskSeconds += busyNow;
    idleTaskSeconds += tasks.length - busyNow;
  }
  return { calls: calls.filter((c) => c !== undefined), scaling, idleTaskSeconds, busyTaskSeconds, simulatedS: t };
}
