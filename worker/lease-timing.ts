/**
 * The timings that decide how soon a lost call is closed, and the rules that tie them together. The worker checks them
 * at start (worker/config.ts) and the CDK construct at synth (infra/resolved-bridge-props.ts), with the same function.
 *
 * - A claimed call carries a lease (`leaseS`), renewed every third of its length on its own timer; a renewal that hangs
 *   is abandoned before the next one is due, so two renewals in a row may fail before the lease runs out.
 * - Every worker sweeps the calls table's `active-calls` index every `sweepIntervalS` and closes calls whose lease ran
 *   out as `FAILED WORKER_LOST`: a lost call is final within `leaseS + sweepIntervalS`.
 * - The dial message stays invisible while its call lasts (renewed every third of `visibilityTimeoutS`). It must be
 *   invisible for longer than the lease: a message that comes back after its worker died then finds the lease run out
 *   and closes the call itself, instead of taking it for a duplicate of a live call.
 */
export interface LeaseTimings {
  readonly visibilityTimeoutS: number;
  readonly leaseS: number;
  /** Longest wait for one DynamoDB or SQS request, in ms (an SQS long poll gets its wait on top). */
  readonly awsRequestTimeoutMs: number;
}

/** Problems with a set of timings, each naming the values involved; empty when they fit together. */
export function leaseTimingProblems(t: LeaseTimings, names: Readonly<Record<keyof LeaseTimings, string>>): string[] {
  const problems: string[] = [];
  if (!(t.visibilityTimeoutS > t.leaseS)) {
    problems.push(
      `${names.visibilityTimeoutS} (${t.visibilityTimeoutS} s) must be longer than ${names.leaseS} (${t.leaseS} s): ` +
        'a dial message that comes back after its worker died must find the lease run out',
    );
  }
  if (!(t.awsRequestTimeoutMs * 3 <= t.leaseS * 1000)) {
    problems.push(
      `${names.awsRequestTimeoutMs} (${t.awsRequestTimeoutMs} ms) must be at most a third of ${names.leaseS} ` +
        `(${t.leaseS} s): the lease is renewed every third of its length, and a renewal must end before the next is due`,
    );
  }
  return problems;
}

/** How often a lease is renewed: a third of its length. */
export function leaseRenewalMs(leaseMs: number): number {
  return Math.max(250, Math.floor(leaseMs / 3));
}
