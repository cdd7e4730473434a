import { z } from 'zod';

/**
 * The setup trace of a call: how long each step took on the way from the enqueue to the INVITE and on to the first
 * audio, as the call record keeps it (`record.setup`). The worker measures its own steps (the queue, the request's
 * checks, the claim, each page command's round trip); the bot page measures its steps (the room adapter's, the SIP
 * leg's) relative to the arrival of the command they belong to and sends them with the command's reply, or in a
 * `setup-steps` event when they end later; the SIP leg's progress and the first media come as the page's events.
 * Timestamps only: nothing is asked of anyone to build it.
 */

/** The version of the trace's shape; a reader that finds another knows it cannot read it as this one. */
export const SETUP_TRACE_VERSION = 1;

/** Most steps a trace keeps (a record must stay small); later ones are counted in `dropped`. */
export const MAX_SETUP_STEPS = 48;
/** Longest `detail` of a step, in characters. */
export const MAX_STEP_DETAIL = 80;
/** Most steps the page reports for one command, in its reply or one event. */
export const MAX_PAGE_STEPS = 16;

/**
 * Every step a trace may hold, in the order of the path, with what it measures. The room adapter's own steps are
 * `room.<name>` (e.g. `room.connect`, `room.join`, `room.publish` for a Janus VideoRoom).
 */
export const SETUP_STEPS = {
  'queue.wait': 'in the dial queue: from the enqueue (SQS SentTimestamp) until a worker received the message',
  'request.validate': 'the message parsed and the dial request validated',
  'egress.check': 'the egress allow-lists checked for the room and the SIP target',
  'egress.resolve': "the SIP target's name resolved and its addresses checked (a name allowed only by `*`)",
  'worker.janus-check': "the page asked whether its Janus session answers (only when its health was not known fresh)",
  'worker.protect': 'scale-in protection set and the worker out of the dial-in registrar (beside the claim and the join)',
  claim: 'the claim with its lease: one conditional write of the call record',
  'trunk.lookup': "the trunk's credentials looked up",
  'room.prepare': "the room made ready for the page (Chime attendees, the origins the page may reach, page mode's app)",
  'page.join-room': 'the join-room command, from the worker to the page and back',
  'room.adapter': "the room provider's adapter loaded in the page",
  'sip.prepare': 'the SIP leg prepared beside the room join: caller identity, peer connection, offer',
  'sip.register': "the caller identity registered with Janus's SIP plugin (a guest sends nothing on the wire)",
  'sip.offer': "the SIP leg's peer connection, its transceivers and its offer",
  'sip.ice': "the SIP leg's ICE candidates gathered (trickled to Janus as they come)",
  'page.dial': 'the dial command, from the worker to the page and back (Janus took the call)',
  'page.answer': 'dial-in: the answer command, from the worker to the page and back',
  'sip.call': "Janus's `call` request, from the page until Janus acknowledged it",
  'sip.invite': 'Janus sent the INVITE (its `calling` event, as the worker received it)',
  'sip.ringing': 'the first provisional response: 180 Ringing or 183 Session Progress',
  'sip.answered': 'the SIP peer answered: 200 OK',
  'media.sip-audio-out': 'first audio packets sent to the SIP peer',
  'media.sip-audio-in': 'first audio packets received from the SIP peer',
  'media.room-audio-out': 'first audio packets of the bot sent into the room',
  'media.room-audio-in': 'first audio packets received from the room',
  'media.sip-video-out': 'first video packets sent to the SIP peer',
  'media.sip-video-in': 'first video packets received from the SIP peer',
  'media.room-video-out': 'first video packets of the bot sent into the room',
  'media.room-video-in': 'first video packets received from the room',
} as const;
export type KnownSetupStep = keyof typeof SETUP_STEPS;
/** A step's name: one of {@link SETUP_STEPS}, or a room adapter's own `room.<name>`. */
export type SetupStepName = KnownSetupStep | `room.${string}`;

/** Where a trace's zero is. */
export const SETUP_ORIGINS = {
  enqueued: 'the enqueue (SQS SentTimestamp)',
  received: 'the receive (the message carried no SentTimestamp)',
  incoming: 'the INVITE arriving at the bot (dial-in)',
} as const;
export type SetupOrigin = keyof typeof SETUP_ORIGINS;

/** One step of a call's setup. */
export interface SetupStep {
  readonly step: SetupStepName;
  /** Milliseconds from the trace's origin to the step's start (to the moment it was seen, for an event). */
  readonly at: number;
  /** How long it took, in ms; absent for an event (something seen happen: the INVITE sent, the first audio). */
  readonly ms?: number;
  /** A page command: how much of `ms` the page spent running it (the rest is the RPC and the worker's event loop). */
  readonly pageMs?: number;
  /** The step failed (and with it, usually, the call). */
  readonly failed?: true;
  readonly detail?: string;
}

/** The setup trace of a call, as its record keeps it. */
export interface SetupTrace {
  readonly version: typeof SETUP_TRACE_VERSION;
  /** The trace's zero, ISO 8601. */
  readonly origin: string;
  readonly originKind: SetupOrigin;
  /** In the order they started. */
  readonly steps: readonly SetupStep[];
  /** Steps left out past {@link MAX_SETUP_STEPS}. */
  readonly dropped?: number;
}

/** A step as the page measures it: relative to the arrival of the command it belongs to. */
export const pageStepSchema = z.strictObject({
  step: z.string().regex(/^(room|sip)\.[a-z][a-z0-9-]{0,39}$/),
  /** Ms from the command's arrival in the page to the step's start. */
  startMs: z.number().finite().min(0).max(600_000),
  ms: z.number().finite().min(0).max(600_000).optional(),
  failed: z.literal(true).optional(),
  detail: z.string().max(MAX_STEP_DETAIL).optional(),
});
export type PageStep = z.infer<typeof pageStepSchema>;

/** What the page says of a command with its reply: how long it ran it, and its steps that ended by then. */
export const pageTraceSchema = z.strictObject({
  handledMs: z.number().finite().min(0).max(3_600_000),
  steps: z.array(pageStepSchema).max(MAX_PAGE_STEPS).default([]),
});
export type PageTrace = z.output<typeof pageTraceSchema>;

/** A trace with no steps yet, whose zero is `originAt` (epoch ms). */
export function startTrace(originAt: number, originKind: SetupOrigin): SetupTrace {
  return { version: SETUP_TRACE_VERSION, origin: new Date(Math.round(originAt)).toISOString(), originKind, steps: [] };
}

/** Milliseconds to a tenth, the precision a trace keeps. */
function tenth(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * `trace` with `step` added in start order (after the steps that started at the same moment), its times rounded to a
 * tenth of a millisecond and its detail cut to {@link MAX_STEP_DETAIL}; past {@link MAX_SETUP_STEPS} it is counted in
 * `dropped` instead.
 */
export function addStep(trace: SetupTrace, step: SetupStep): SetupTrace {
  if (trace.steps.length >= MAX_SETUP_STEPS) return { ...trace, dropped: (trace.dropped ?? 0) + 1 };
  const clean: SetupStep = {
    step: step.step,
    at: tenth(Math.max(0, step.at)),
    ...(step.ms === undefined ? {} : { ms: tenth(Math.max(0, step.ms)) }),
    ...(step.pageMs === undefined ? {} : { pageMs: tenth(Math.max(0, step.pageMs)) }),
    ...(step.failed === true ? { failed: true as const } : {}),
    ...(step.detail === undefined ? {} : { detail: step.detail.slice(0, MAX_STEP_DETAIL) }),
  };
  const steps = [...trace.steps];
  let index = steps.length;
  while (index > 0 && steps[index - 1]!.at > clean.at) index--;
  steps.splice(index, 0, clean);
  return { ...trace, steps };
}

/**
 * When a command reached the page, in the worker's clock: the reply took `repliedAt - sentAt`, of which the page ran
 * it `handledMs`; the rest is split evenly between the way there and the way back.
 */
export function pageArrival(sentAt: number, repliedAt: number, handledMs: number): number {
  return sentAt + Math.max(0, repliedAt - sentAt - handledMs) / 2;
}

/** The page's steps of one command as trace steps, given when the command reached the page (epoch ms). */
export function pageStepsAt(trace: SetupTrace, arrivedAt: number, steps: readonly PageStep[]): SetupStep[] {
  const offset = arrivedAt - Date.parse(trace.origin);
  return steps.map((s) => ({
    step: s.step as SetupStepName,
    at: offset + s.startMs,
    ...(s.ms === undefined ? {} : { ms: s.ms }),
    ...(s.failed === true ? { failed: true as const } : {}),
    ...(s.detail === undefined ? {} : { detail: s.detail }),
  }));
}

/** The first step of this name, if the trace has one. */
export function findStep(trace: SetupTrace | undefined, name: SetupStepName): SetupStep | undefined {
  return trace?.steps.find((s) => s.step === name);
}

/** When a step ended (its start for an event), in ms from the origin. */
export function stepEnd(step: SetupStep): number {
  return step.at + (step.ms ?? 0);
}

/** What a step measures, in words (a room adapter's own step: "the room adapter's step <name>"). */
export function describeStep(name: string): string {
  if (name in SETUP_STEPS) return SETUP_STEPS[name as KnownSetupStep];
  return name.startsWith('room.') ? `the room adapter's step "${name.slice(5)}"` : name;
}

/**
 * The trace as lines a person reads: each step's start from the origin, how long it took (the page's share of a page
 * command), and its detail, in start order; then the milestones (INVITE, answer, first audio).
 */
export function describeSetupTrace(trace: SetupTrace): string[] {
  const width = Math.max(12, ...trace.steps.map((s) => s.step.length));
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const lines = [`from ${SETUP_ORIGINS[trace.originKind]} at ${trace.origin}`];
  for (const s of trace.steps) {
    const took = s.ms === undefined ? '' : `${ms(s.ms)}${s.pageMs === undefined ? '' : ` (page ${ms(s.pageMs)})`}`;
    const detail = [s.failed === true ? 'FAILED' : undefined, s.detail].filter((d) => d !== undefined).join(': ');
    lines.push(`+${ms(s.at).padStart(10)}  ${s.step.padEnd(width)}  ${took.padEnd(24)}${detail}`.trimEnd());
  }
  if (trace.dropped !== undefined) lines.push(`(${trace.dropped} more steps not kept)`);
  const milestones = (
    [
      ['INVITE sent', 'sip.invite'],
      ['answered', 'sip.answered'],
      ['first audio to the phone', 'media.sip-audio-out'],
      ['first audio from the phone', 'media.sip-audio-in'],
    ] as const
  ).flatMap(([label, name]) => {
    const step = findStep(trace, name);
    return step === undefined ? [] : [`${label} ${ms(step.at)}`];
  });
  if (milestones.length > 0) lines.push(`from the origin: ${milestones.join(', ')}`);
  return lines;
}
