import { smallestTaskFor, type FargateChoice } from './fargate.js';

/**
 * The worker task's default size, from what one call measured in the benchmark (worker + Chromium, see
 * docs/benchmark.md): the smallest Fargate size holding that call with the benchmark's 1.5× headroom on CPU and memory.
 * A worker carries one call, so the size is per call.
 */

/** What a deployment's calls carry: audio only, or video too (a request's `media.video`). */
export const WORKER_MEDIA = ['audio', 'video'] as const;
export type WorkerMedia = (typeof WORKER_MEDIA)[number];

/** One call's use as the benchmark measured it, and which run. */
export interface MeasuredCall {
  readonly cores: number;
  readonly pssMb: number;
  readonly run: string;
}

export const MEASURED_CALLS = {
  audio: {
    cores: 0.23,
    pssMb: 312,
    run: 'forwarded audio call, npm run bench -- --quick, 2026-12-07, commit aae2115, 2-core machine, load 1.0 at the start',
  },
  video: {
    cores: 0.509,
    pssMb: 358,
    run: 'video call (640x480@30 H.264 to SIP, split 2x2), npm run bench -- --quick, 2026-12-07, commit aae2115, 2-core machine',
  },
} as const satisfies Record<WorkerMedia, MeasuredCall>;

/** The default worker size for each kind of deployment: audio 0.5 vCPU/1 GB, video 1 vCPU/2 GB. */
export const WORKER_SIZES: Readonly<Record<WorkerMedia, FargateChoice>> = {
  audio: smallestTaskFor(MEASURED_CALLS.audio),
  video: smallestTaskFor(MEASURED_CALLS.video),
};
