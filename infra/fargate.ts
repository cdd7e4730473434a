/**
 * What a bridged call costs on AWS Fargate: on-demand prices, the task sizes Fargate accepts, and the smallest size
 * that holds what the benchmark measured for one call.
 *
 * Fargate bills the size a task asks for (not what it uses), per second with a one-minute minimum per task. A worker
 * runs one call and exits, so the price of a call-minute is the price of one task-minute divided by the calls it
 * carries. Not included: the minute minimum for calls shorter than a minute, the time a warm worker waits before its
 * call, ephemeral storage beyond the free 20 GB, data transfer, and the Janus nodes.
 */

/** On-demand price of one vCPU for one hour, US East (N. Virginia), Linux/x86_64, in US dollars. */
export const FARGATE_USD_PER_VCPU_HOUR = 0.04048;
/** On-demand price of one GB (GiB: Fargate sizes memory in MiB) for one hour, US East (N. Virginia), Linux/x86_64. */
export const FARGATE_USD_PER_GB_HOUR = 0.004445;
/** When the two prices above were read (aws.amazon.com/fargate/pricing); read them again before quoting a cost. */
export const FARGATE_PRICES_READ_ON = '2026-11-26';
/** What the prices above apply to, for reports. */
export const FARGATE_PRICES_SCOPE = 'Fargate on-demand, us-east-1, Linux/x86_64';

/** A task size: vCPU and memory as Fargate counts them (1 vCPU = 1024 CPU units, 1 GB = 1024 MiB). */
export interface FargateTaskSize {
  readonly vcpu: number;
  readonly memoryGb: number;
}

/**
 * The CPU and memory combinations Fargate accepts for a Linux task: for each vCPU value, the memory from `minGb` to
 * `maxGb` in steps of `stepGb`, or the listed values. 8 and 16 vCPU need Linux platform 1.4.0 or later.
 */
export const FARGATE_MEMORY_BY_VCPU = [
  { vcpu: 0.25, memoryGb: [0.5, 1, 2] },
  { vcpu: 0.5, minGb: 1, maxGb: 4, stepGb: 1 },
  { vcpu: 1, minGb: 2, maxGb: 8, stepGb: 1 },
  { vcpu: 2, minGb: 4, maxGb: 16, stepGb: 1 },
  { vcpu: 4, minGb: 8, maxGb: 30, stepGb: 1 },
  { vcpu: 8, minGb: 16, maxGb: 60, stepGb: 4 },
  { vcpu: 16, minGb: 32, maxGb: 120, stepGb: 8 },
] as const;

/** A task size chosen for a measured call, with what it costs. */
export interface FargateChoice extends FargateTaskSize {
  /** CPU units for a task definition (`workerCpu`). */
  readonly cpuUnits: number;
  /** Memory in MiB for a task definition (`workerMemoryMiB`). */
  readonly memoryMiB: number;
  readonly usdPerHour: number;
  readonly usdPerCallMinute: number;
}

const TASK_SIZES: readonly FargateTaskSize[] = listTaskSizes();

/** Every valid Fargate Linux task size, cheapest first (ties: fewer vCPU first). */
export function fargateTaskSizes(): readonly FargateTaskSize[] {
  return TASK_SIZES;
}

/** Whether Fargate accepts `size` for a Linux task. */
export function isFargateTaskSize(size: FargateTaskSize): boolean {
  return TASK_SIZES.some((valid) => valid.vcpu === size.vcpu && valid.memoryGb === size.memoryGb);
}

/**
 * The on-demand price of running a task of `size` for one hour, in US dollars.
 *
 * @throws RangeError when Fargate does not accept the size.
 */
export function taskUsdPerHour(size: FargateTaskSize): number {
  assertTaskSize(size);
  return hourlyUsd(size);
}

/**
 * What one minute of one call costs on a task of the given size carrying `callsPerTask` calls at once, in US dollars.
 *
 * @param options.callsPerTask concurrent calls one task carries. @default 1 (a worker runs one call)
 * @throws RangeError when Fargate does not accept the size or `callsPerTask` is not a positive integer.
 */
export function costPerCallMinute(options: FargateTaskSize & { readonly callsPerTask?: number }): number {
  const callsPerTask = options.callsPerTask ?? 1;
  if (!Number.isInteger(callsPerTask) || callsPerTask < 1) {
    throw new RangeError(`callsPerTask must be a positive integer, got ${callsPerTask}`);
  }
  return taskUsdPerHour(options) / 60 / callsPerTask;
}

/**
 * The cheapest Fargate task size that holds `callsPerTask` calls of the measured use with `headroom`, and what a
 * call-minute costs on it.
 *
 * @param options.cores CPU cores one call uses on average (from the usage meter).
 * @param options.pssMb proportional memory of one call, in MiB (2^20 bytes).
 * @param options.headroom factor applied to both before fitting, for peaks and a slower vCPU than the lab's core.
 *   @default 1.5
 * @param options.callsPerTask concurrent calls per task. @default 1
 * @throws RangeError on a negative or non-finite measurement, a headroom below 1, or a need no size holds.
 */
export function smallestTaskFor(options: {
  readonly cores: number;
  readonly pssMb: number;
  readonly headroom?: number;
  readonly callsPerTask?: number;
}): FargateChoice {
  const headroom = options.headroom ?? 1.5;
  const callsPerTask = options.callsPerTask ?? 1;
  for (const [name, value] of [['cores', options.cores], ['pssMb', options.pssMb]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
  }
  if (!Number.isFinite(headroom) || headroom < 1) throw new RangeError(`headroom must be a factor ≥ 1, got ${headroom}`);
  if (!Number.isInteger(callsPerTask) || callsPerTask < 1) {
    throw new RangeError(`callsPerTask must be a positive integer, got ${callsPerTask}`);
  }
  const needVcpu = options.cores * headroom * callsPerTask;
  const needGb = (options.pssMb * headroom * callsPerTask) / 1024;
  const epsilon = 1e-9;
  const size = TASK_SIZES.find((s) => s.vcpu + epsilon >= needVcpu && s.memoryGb + epsilon >= needGb);
  if (size === undefined) {
    throw new RangeError(
      `no Fargate task size holds ${needVcpu.toFixed(2)} vCPU and ${needGb.toFixed(2)} GB ` +
        `(${callsPerTask} call(s) × ${headroom} headroom); the largest is 16 vCPU with 120 GB`,
    );
  }
  return {
    ...size,
    cpuUnits: size.vcpu * 1024,
    memoryMiB: size.memoryGb * 1024,
    usdPerHour: taskUsdPerHour(size),
    usdPerCallMinute: costPerCallMinute({ ...size, callsPerTask }),
  };
}

function hourlyUsd(size: FargateTaskSize): number {
  return size.vcpu * FARGATE_USD_PER_VCPU_HOUR + size.memoryGb * FARGATE_USD_PER_GB_HOUR;
}

function listTaskSizes(): FargateTaskSize[] {
  const sizes: FargateTaskSize[] = [];
  for (const row of FARGATE_MEMORY_BY_VCPU) {
    if ('memoryGb' in row) {
      for (const memoryGb of row.memoryGb) sizes.push({ vcpu: row.vcpu, memoryGb });
    } else {
      for (let memoryGb = row.minGb; memoryGb <= row.maxGb; memoryGb += row.stepGb) sizes.push({ vcpu: row.vcpu, memoryGb });
    }
  }
  return sizes.sort((a, b) => hourlyUsd(a) - hourlyUsd(b) || a.vcpu - b.vcpu);
}

function assertTaskSize(size: FargateTaskSize): void {
  if (isFargateTaskSize(size)) return;
  const row = FARGATE_MEMORY_BY_VCPU.find((r) => r.vcpu === size.vcpu);
  const accepted =
    row === undefined
      ? `vCPU must be one of ${FARGATE_MEMORY_BY_VCPU.map((r) => r.vcpu).join(', ')}`
      : 'memoryGb' in row
        ? `${row.vcpu} vCPU takes ${row.memoryGb.join(', ')} GB`
        : `${row.vcpu} vCPU takes ${row.minGb}–${row.maxGb} GB in steps of ${row.stepGb} GB`;
  throw new RangeError(`${size.vcpu} vCPU with ${size.memoryGb} GB is not a Fargate task size: ${accepted}`);
}
