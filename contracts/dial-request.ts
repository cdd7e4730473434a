import { z } from 'zod';
import { RoomlineError } from './errors.js';
import { ROOM_PROVIDER_NAMES, roomCapabilities, roomIssues, roomSchema, type RoomJoin } from './rooms/index.js';
import {
  DTMF_CARRIAGES,
  SRTP_MODES,
  TRANSFER_POLICIES,
  audioCodecListSchema,
  dtmfDigitsSchema,
} from './telephony.js';
import { egressIssues, type EgressPolicy } from './egress-policy.js';
import { mediaSchema } from './media-options.js';
import { DIAL_URI_PARAMS, sipUriSchemaWith } from './sip-uri.js';
import { safeText } from './text.js';
import { checkUntrustedInput, formatPath, summariseIssues, type InputIssue } from './untrusted-input.js';

/**
 * The dial request, version 1: what any service puts on the dial queue to have Roomline call a SIP target from a room.
 * One schema validates it everywhere: in the client before sending, in the CLI, and in the worker on arrival.
 */

/**
 * A SIP or SIPS URI without display name or angle brackets, e.g. `sip:alice@pbx.example.com:5060;transport=tcp`:
 * port 1-65535, no URI headers, no password, only the parameters `transport` and `user` (see `contracts/sip-uri.ts`).
 */
export const sipUriSchema = sipUriSchemaWith(DIAL_URI_PARAMS);

export const callIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-"');

const headerName = z
  .string()
  .regex(/^X-[A-Za-z0-9-]{1,64}$/, 'only X- headers may be set (e.g. X-Meeting-Id)');
const headerValue = safeText(256, { allowEmpty: true });

export const limitsSchema = z.strictObject({
  /** Seconds the SIP target may ring before the call fails with SIP_NO_ANSWER. @default 45 */
  ringTimeoutS: z.number().int().min(1).max(600).default(45),
  /** Longest call, from answer to hangup, in seconds. @default 14400 (4 hours) */
  maxDurationS: z.number().int().min(1).max(86_400).default(14_400),
  /** Seconds the room may stay without any other participant before the bot hangs up. 0 = never. @default 60 */
  emptyRoomTimeoutS: z.number().int().min(0).max(86_400).default(60),
});

/**
 * How the SIP leg behaves as a telephone. Settings left out come from the request's trunk (when it has them), then
 * from the defaults below.
 */
export const sipOptionsSchema = z.strictObject({
  /** How digits are sent to the SIP peer. @default the trunk's `dtmf`, else "rfc2833" */
  dtmf: z.enum(DTMF_CARRIAGES).optional(),
  /**
   * Digits sent once the peer answers (e.g. a conference PIN): 0-9 * # A-D, "," for a 2-second pause. Kept out of
   * the call record and logs like any secret.
   */
  dtmfAfterAnswer: dtmfDigitsSchema.optional(),
  /** SDES-SRTP on the SIP leg. @default the trunk's `srtp`, else "off" */
  srtp: z.enum(SRTP_MODES).optional(),
  /**
   * The audio codecs the SIP leg offers, most preferred first (e.g. ["PCMU", "PCMA"] for the PSTN); only these are
   * offered. @default the trunk's `audioCodecs`, else every codec the browser has, opus first
   */
  audioCodecs: audioCodecListSchema.optional(),
  /** A blind transfer (REFER) from the SIP peer: `follow` calls the new target, `decline` refuses it. @default "follow" */
  transfer: z.enum(TRANSFER_POLICIES).default('follow'),
  /** Send each digit the SIP peer sends into the room as a data message (where the provider has them). @default false */
  dtmfToRoom: z.boolean().default(false),
});

export const fromSchema = z.strictObject({
  uri: sipUriSchema,
  /** Shown by the callee's phone; quoted into the From header, so no quotes, backslashes or angle brackets. */
  displayName: safeText(64)
    .refine((name) => !/["\\<>]/.test(name), 'must not contain quotes, backslashes or angle brackets')
    .optional(),
});

export const dialRequestSchema = z
  .strictObject({
    version: z.literal(1, { error: 'must be 1 (this is dial request version 1)' }),
    /** Idempotency key: one call per callId, whatever the number of deliveries. @default a random UUID (client) */
    callId: callIdSchema.optional(),
    /** The SIP target. */
    to: sipUriSchema,
    /** The caller identity presented to the SIP target. @default the worker's configured identity */
    from: fromSchema.optional(),
    /** Name of a SIP trunk configured on the workers (credentials are looked up there, never sent here). */
    trunk: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"').optional(),
    /** Extra SIP headers for the INVITE; only X- headers. */
    headers: z
      .record(headerName, headerValue)
      .refine((h) => Object.keys(h).length <= 16, 'at most 16 headers')
      .optional(),
    room: roomSchema,
    media: mediaSchema.default(() => mediaSchema.parse({})),
    /** Telephone behaviour of the SIP leg: DTMF, SRTP, codecs, transfers. */
    sip: sipOptionsSchema.default(() => sipOptionsSchema.parse({})),
    limits: limitsSchema.default(() => limitsSchema.parse({})),
    /** Free-form string pairs kept in the call record (e.g. your own meeting or tenant id). */
    metadata: z
      .record(safeText(64), safeText(512, { allowEmpty: true }))
      .refine((m) => Object.keys(m).length <= 16, 'at most 16 entries')
      .optional(),
  })
  .refine((r) => r.media.audio || r.media.video !== 'off', {
    message: 'media: at least one of audio or video must be on',
    path: ['media'],
  })
  // what the room's provider cannot do is refused here, at the edge, not found out mid-call
  .superRefine((r, ctx) => {
    for (const issue of roomIssues(r.room, r.media)) ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
    if (r.sip.dtmfToRoom && !roomCapabilities(r.room).dataMessages) {
      ctx.addIssue({ code: 'custom', path: ['sip', 'dtmfToRoom'], message: 'this room provider carries no data messages' });
    }
  });

/** A dial request as written by a caller (defaults not yet applied). */
export type DialRequestInput = z.input<typeof dialRequestSchema>;
/** A validated dial request with every default applied. */
export type DialRequest = z.output<typeof dialRequestSchema>;
export type { RoomJoin };
export {
  SIP_VIDEO_CODECS,
  VIDEO_DIRECTIONS,
  VIDEO_LAYOUTS,
  mediaSchema,
  splitSchema,
  splitTileNames,
  type MediaOptions,
  type SipVideoCodec,
  type SplitLayout,
  type VideoDirection,
  type VideoLayout,
} from './media-options.js';
export type CallLimits = z.output<typeof limitsSchema>;
export type SipOptions = z.output<typeof sipOptionsSchema>;

export type DialRequestParseResult =
  | { readonly ok: true; readonly request: DialRequest }
  | { readonly ok: false; readonly reason: string; readonly callId: string | undefined };

/**
 * Validates a dial request without throwing. Untrusted input is first checked to be plain JSON data of bounded size,
 * with no prototype keys anywhere; then the schema runs. On failure, `reason` lists the problems as `path: message`,
 * bounded in length whatever the input (see `summariseIssues`).
 */
export function safeParseDialRequest(input: unknown, policy?: EgressPolicy): DialRequestParseResult {
  const shape = checkUntrustedInput(input);
  if (shape.length > 0) return { ok: false, reason: summariseIssues(shape), callId: salvageCallId(input) };
  const result = dialRequestSchema.safeParse(input);
  if (!result.success) return { ok: false, reason: describeIssues(result.error.issues), callId: salvageCallId(input) };
  // where the request would make Roomline connect, when the caller knows the deployment's allow-lists
  const refused = policy === undefined ? [] : egressIssues(result.data, policy);
  if (refused.length > 0) return { ok: false, reason: summariseIssues(refused), callId: result.data.callId };
  return { ok: true, request: result.data };
}

/**
 * `path: message` for each problem, bounded: unknown fields are named (quoted and cut) and counted rather than
 * listed, a bad record key (e.g. a header name) says what is wrong with the name.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return summariseIssues(issues.map(toInputIssue));
}

function toInputIssue(issue: z.core.$ZodIssue): InputIssue {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  switch (issue.code) {
    case 'unrecognized_keys': {
      const shown = issue.keys.slice(0, 5).map((key) => formatPath([key]));
      const more = issue.keys.length - shown.length;
      return {
        path,
        message: `unknown field${issue.keys.length === 1 ? '' : 's'} ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
      };
    }
    case 'invalid_key':
      return { path, message: `invalid name: ${issue.issues.map((i) => i.message).join(', ')}` };
    default:
      return { path, message: issue.message };
  }
}

/**
 * Validates a dial request (and, given a policy, where it would connect), throwing a `RoomlineError` with code
 * `INVALID_REQUEST` and a readable reason.
 */
export function parseDialRequest(input: unknown, policy?: EgressPolicy): DialRequest {
  const result = safeParseDialRequest(input, policy);
  if (!result.ok) throw new RoomlineError('INVALID_REQUEST', `invalid dial request: ${result.reason}`);
  return result.request;
}

/** The callId of an invalid request, if it has a usable one, so its failure can be recorded under it. */
function salvageCallId(input: unknown): string | undefined {
  try {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
    const descriptor = Object.getOwnPropertyDescriptor(input, 'callId');
    if (descriptor === undefined || !('value' in descriptor)) return undefined;
    const parsed = callIdSchema.safeParse(descriptor.value);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A valid request that goes through every part of the schema a typical call uses (a Janus room, a display name, the
 * SIP options, limits, metadata), for {@link warmDialRequestParsing}.
 */
export const WARM_UP_DIAL_REQUEST: DialRequestInput = {
  version: 1,
  callId: 'warm-up',
  to: 'sip:warm-up@example.invalid',
  from: { uri: 'sip:roomline@example.invalid', displayName: 'Roomline' },
  room: { provider: 'janus', serverUrl: 'wss://janus.example.invalid/ws', roomId: 1, display: 'Phone' },
  headers: { 'X-Warm-Up': '1' },
  limits: { ringTimeoutS: 30, maxDurationS: 60, emptyRoomTimeoutS: 0 },
  metadata: { warm: 'up' },
};

/**
 * Parses {@link WARM_UP_DIAL_REQUEST}, and a room of each provider, once: zod compiles each object schema on its
 * first parse (10-30 ms for a dial request), which a warm worker does before its first message rather than on it.
 */
export function warmDialRequestParsing(): void {
  safeParseDialRequest(WARM_UP_DIAL_REQUEST);
  for (const provider of ROOM_PROVIDER_NAMES) safeParseDialRequest({ ...WARM_UP_DIAL_REQUEST, room: { provider } });
}
