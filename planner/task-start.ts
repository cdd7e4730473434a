import type { Distribution } from './random.js';

/**
 * How long a new worker task takes from the moment ECS decides to run it to the moment it can take a call: Fargate's
 * launch (a fresh micro-VM, its network interface, the image pulled and unpacked) plus the worker's warm-up (Chromium
 * launched, the bot page loaded, the Janus session open).
 *
 * The figure AWS publishes: "It is normal for new AWS Fargate tasks to take 30-45 seconds or longer to start", with
 * the image pull and unpacking among the steps (AWS re:Post, answered for AWS,
 * https://repost.aws/questions/QUjZAzJd27SZWxXM7MgyxOZw/how-to-speed-up-provisioning-of-ecs-fargate-task). AWS's
 * ECS guide adds that pull time is part of launch time and that images over 250 MB are better lazy-loaded
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-pull-behavior.html). The worker image carries
 * Debian's Chromium (a few hundred MB, so over that line), so the default takes the top of AWS's range as the
 * median, 45 s, and its "or longer" as a tail to 75 s at the 95th percentile; then adds the worker's warm-up, 2 s:
 * the benchmark's cold call took about 2 s more than a warm one to ring (docs/benchmark.md, 2957 against 946 ms).
 * `roomline plan --task-start-p50-s/--task-start-p95-s` replace it with a deployment's own measurement.
 */
export const FARGATE_LAUNCH_DEFAULT = { kind: 'lognormal', p50S: 45, p95S: 75 } as const satisfies Distribution;

/** The worker's own warm-up after its container starts, in seconds (see above). */
export const WORKER_WARM_UP_S = 2;

/** Where the default comes from, for the report. */
export const TASK_START_SOURCE =
  'Fargate launch from AWS re:Post "30-45 seconds or longer" (p50 45 s, p95 75 s for an image over 250 MB) + 2 s warm-up';
