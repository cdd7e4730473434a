import { z } from 'zod';
import { ERROR_CODE_NAMES, FAULTS } from './errors.js';
import { fromSchema, sipUriSchema } from './dial-request.js';
import { mediaSchema } from './media-options.js';
import { roomSchema } from './rooms/index.js';
import { PIN_PROMPTS } from './dial-in.js';
import { PROXY_URI_PARAMS, sipUriSchemaWith } from './sip-uri.js';
import type { QualitySummary } from './call-record.js';
import { MAX_PAGE_STEPS, pageStepSchema, pageTraceSchema } from './setup-trace.js';
import {
  DTMF_CARRIAGES,
  DTMF_DIGIT_PATTERN,
  DTMF_RECEIVED_CARRIAGES,
  SIP_SIDES,
  SIP_TRANSPORTS,
  SRTP_MODES,
  TRANSFER_PHASES,
  TRANSFER_POLICIES,
  audioCodecListSchema,
  dtmfDigitsSchema,
} from './telephony.js';

/**
 * The RPC between the worker (Node) and the bot page (browser). Commands go worker → page through `page.evaluate`;
 * events come page → worker through a function the worker exposes. Both sides validate what arrives.
 */

/** Name of the function the worker exposes to the page for events. */
export const PAGE_EVENT_FUNCTION = '__roomlineEmit';
/** Name of the page global that receives commands. */
export const PAGE_COMMAND_GLOBAL = '__roomline';
/** How often the page sends a heartbeat. */
export const PAGE_HEARTBEAT_MS = 1_000;
/** How long the page lets the SIP plugin take a `register` request (a guest's sends nothing on the wire). */
export const SIP_REGISTER_REQUEST_TIMEOUT_MS = 5_000;
/** How long the page lets a trunk's REGISTER, once the plugin sent it, wait for the registrar's answer. */
export const SIP_REGISTER_ANSWER_TIMEOUT_MS = 15_000;

const iceServerSchema = z.strictObject({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** Credentials the SIP leg registers with for a trunk (Janus SIP `register`); never logged. */
export const sipAccountSchema = z.strictObject({
  username: sipUriSchema,
  secret: z.string().min(1),
  proxy: sipUriSchemaWith(PROXY_URI_PARAMS),
  authUsername: z.string().optional(),
  /** Send a REGISTER before calling; otherwise the credentials only answer the INVITE's challenges. */
  register: z.boolean(),
  /** Every request (REGISTER, INVITE, in-dialog) goes through this proxy (Janus SIP `outbound_proxy`). */
  outboundProxy: sipUriSchema.optional(),
  /** The transport of the SIP stack: UDP, TCP, or TLS. @default "udp" */
  transport: z.enum(SIP_TRANSPORTS).default('udp'),
});
export type SipAccount = z.input<typeof sipAccountSchema>;

/** The SIP leg's telephone settings for one call, resolved from the request and its trunk. */
export const sipLegOptionsSchema = z.strictObject({
  srtp: z.enum(SRTP_MODES).default('off'),
  /** Offer only these audio codecs, in this order; absent: everything the browser has. */
  audioCodecs: audioCodecListSchema.optional(),
  /** Listen for digits in the SIP peer's audio (RFC 2833 events, played out as tones by WebRTC). @default true */
  detectDtmf: z.boolean().default(true),
  transfer: z.enum(TRANSFER_POLICIES).default('follow'),
  /** Send each digit received into the room as a data message. @default false */
  dtmfToRoom: z.boolean().default(false),
});
export type SipLegOptions = z.output<typeof sipLegOptionsSchema>;

/** The data message a bot sends into the room for each digit the SIP peer dials (when `dtmfToRoom` is on). */
export interface RoomDtmfMessage {
  readonly type: 'roomline.dtmf';
  readonly digit: string;
  readonly carriage: (typeof DTMF_RECEIVED_CARRIAGES)[number];
}

/** What a dial is: the SIP target, the caller, the media and the SIP leg's settings. */
const dialShape = {
  to: sipUriSchema,
  from: fromSchema,
  headers: z.record(z.string(), z.string()).default({}),
  media: mediaSchema,
  display: z.string(),
  account: sipAccountSchema.optional(),
  sip: sipLegOptionsSchema.default(() => sipLegOptionsSchema.parse({})),
};
/** A dial's fields as the page runs them (validated, defaults applied). */
export type DialFields = z.output<z.ZodObject<typeof dialShape>>;

export const pageCommandSchema = z.discriminatedUnion('type', [
  /**
   * Warm-up: connect to the Janus node for SIP and attach the SIP plugin. Sent again after the Janus session was lost
   * (to this node or another), it opens a new one: an idle worker heals without restarting Chromium.
   */
  z.strictObject({
    type: z.literal('init'),
    janusUrl: z.string(),
    /** The Janus API secret of the SIP node (ROOMLINE_JANUS_API_SECRET), sent with every request there. */
    apiSecret: z.string().optional(),
    /** Origins the page may open WebSockets to for its whole life, besides the Janus node (configuration). */
    allowOrigins: z.array(z.string()).optional(),
    iceServers: z.array(iceServerSchema).default([]),
    /** Forward encoded audio between the legs where both carry the same codec (ROOMLINE_ENCODED_FORWARDING). */
    encodedForwarding: z.boolean().default(true),
    /**
     * The SIP outbound proxy of the node's dialled calls, as the Janus node reaches it (ROOMLINE_SIP_OUTBOUND_PROXY): a
     * guest call and a UDP trunk without an outbound proxy of its own go through it. @default none
     */
    sipOutboundProxy: sipUriSchema.optional(),
  }),
  /** Whether the page can place a call now: its Janus session answers a keepalive within `timeoutMs`. */
  z.strictObject({ type: z.literal('health'), timeoutMs: z.number().int().positive().max(10_000).default(1_500) }),
  /**
   * Join the room as the bot; `media` says what the bot will publish (SIP audio, SIP video or its tiles);
   * `dataMessages` opens a data channel to the room on the bot's feed.
   */
  z.strictObject({
    type: z.literal('join-room'),
    room: roomSchema,
    display: z.string(),
    media: mediaSchema,
    dataMessages: z.boolean().default(false),
    /**
     * The dial that follows a successful join: its SIP leg (caller identity, peer connection, offer) is prepared while
     * the room joins, and thrown away if the join fails. Nothing reaches the SIP peer before the `dial` command.
     */
    prepareDial: z.strictObject(dialShape).optional(),
  }),
  /**
   * Call the SIP target; progress arrives as `sip-progress` / `sip-ended` events. A SIP leg prepared for the same dial
   * (`join-room`'s `prepareDial`) only has to be placed.
   */
  z.strictObject({ type: z.literal('dial'), ...dialShape }),
  /**
   * Dial-in: register a SIP handle of its own as a contact of the inbound address at the registrar, so that inbound
   * INVITEs forked to it arrive as `sip-incoming` events. Resolves once the registrar accepted the REGISTER.
   */
  z.strictObject({
    type: z.literal('inbound-register'),
    account: sipAccountSchema,
    /** Headers of incoming INVITEs reported with `sip-incoming` (Janus `incoming_header_prefixes`). */
    headerPrefixes: z.array(z.string().regex(/^X-[A-Za-z0-9-]{0,64}$/)).max(8).default(['X-']),
  }),
  /** Dial-in: remove the registration (the worker took a call or stops); resolves once the registrar confirmed. */
  z.strictObject({ type: z.literal('inbound-unregister') }),
  /** Dial-in: refuse the pending incoming call with a final response (486 when another worker took it, 404...). */
  z.strictObject({ type: z.literal('inbound-decline'), code: z.number().int().min(400).max(699) }),
  /**
   * Dial-in: answer the pending incoming call (200 OK with the bridge's media), after the bot joined its room;
   * progress arrives as `sip-progress` (`accepted`) and the end as `sip-ended`, as for a dialled call.
   */
  z.strictObject({
    type: z.literal('answer'),
    media: mediaSchema,
    sip: sipLegOptionsSchema.default(() => sipLegOptionsSchema.parse({})),
  }),
  /**
   * Dial-in PIN line: play a prompt to the SIP peer (answered before the bot joins any room); resolves when it has
   * played. Once the bot joins the room, the room's audio replaces the prompts.
   */
  z.strictObject({ type: z.literal('play-prompt'), prompt: z.enum(PIN_PROMPTS) }),
  /** Hang up the SIP leg (BYE when answered, CANCEL while ringing). Resolves when Janus confirms or after a timeout. */
  z.strictObject({ type: z.literal('hangup') }),
  /** Send DTMF digits ("," pauses 2 s) on the answered SIP leg; resolves when the last one was sent. */
  z.strictObject({ type: z.literal('send-dtmf'), digits: dtmfDigitsSchema, carriage: z.enum(DTMF_CARRIAGES) }),
  /** Put the SIP leg on hold (a re-INVITE with media inactive) or take it off hold. */
  z.strictObject({ type: z.literal('hold') }),
  z.strictObject({ type: z.literal('resume') }),
  /** Ask the SIP peer to call `to` instead (a blind transfer: REFER); the outcome arrives as `sip-transfer` events. */
  z.strictObject({ type: z.literal('transfer'), to: sipUriSchema }),
  z.strictObject({ type: z.literal('get-stats') }),
  /** Leave the room and close every peer connection; the Janus session stays for nothing else. */
  z.strictObject({ type: z.literal('leave') }),
]);
/** A command as the worker writes it (defaults may be left out). */
export type PageCommand = z.input<typeof pageCommandSchema>;
/** A command as the page runs it, validated, defaults applied. */
export type ParsedPageCommand = z.output<typeof pageCommandSchema>;
export type PageCommandType = PageCommand['type'];

export interface ParticipantInfo {
  readonly id: string;
  readonly display?: string;
}

/** What each command resolves to. */
export interface PageCommandResults {
  readonly init: { readonly janusServer: string };
  readonly health: { readonly janus: 'open' | 'closed' | 'silent' };
  readonly 'join-room': { readonly selfId: string; readonly participants: readonly ParticipantInfo[] };
  readonly dial: { readonly accepted: true };
  readonly 'inbound-register': { readonly registered: true };
  readonly 'inbound-unregister': { readonly unregistered: boolean };
  readonly 'inbound-decline': { readonly declined: boolean };
  readonly answer: { readonly answering: true };
  readonly 'play-prompt': { readonly playedMs: number };
  readonly hangup: { readonly sent: boolean };
  /** How many digits were sent (pauses not counted). */
  readonly 'send-dtmf': { readonly sent: number };
  readonly hold: { readonly held: true };
  readonly resume: { readonly held: false };
  readonly transfer: { readonly requested: true };
  readonly 'get-stats': QualitySummary;
  readonly leave: { readonly left: true };
}

export const failureInfoSchema = z.strictObject({
  code: z.enum(ERROR_CODE_NAMES),
  reason: z.string(),
  retryable: z.boolean(),
  fault: z.enum(FAULTS),
  sipCode: z.number().int().optional(),
});

/** A command's reply: its result or its failure, and how long the page ran it with its steps (the setup trace). */
export const pageReplySchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), result: z.unknown(), trace: pageTraceSchema.optional() }),
  z.strictObject({ ok: z.literal(false), error: failureInfoSchema, trace: pageTraceSchema.optional() }),
]);
export type PageReply = z.infer<typeof pageReplySchema>;

export const SIP_PROGRESS_EVENTS = ['calling', 'ringing', 'proceeding', 'progress', 'accepted'] as const;

export const pageEventSchema = z.discriminatedUnion('type', [
  /**
   * Every second. `janus`: the SIP leg's Janus session, open or not, and how long ago anything was heard from it (it
   * answers a keepalive every few seconds): what the worker knows of its health without asking.
   */
  z.strictObject({
    type: z.literal('heartbeat'),
    at: z.number(),
    janus: z.strictObject({ open: z.boolean(), heardMs: z.number().finite().min(0).optional() }).optional(),
  }),
  /** Setup steps of a command that ended after its reply (e.g. the room's publish, the SIP leg's ICE gathering). */
  z.strictObject({
    type: z.literal('setup-steps'),
    command: z.enum(['join-room', 'dial', 'answer']),
    steps: z.array(pageStepSchema).min(1).max(MAX_PAGE_STEPS),
  }),
  z.strictObject({
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    msg: z.string().max(2_000),
    data: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({
    type: z.literal('room-participant'),
    change: z.enum(['joined', 'left']),
    participant: z.strictObject({ id: z.string(), display: z.string().optional() }),
    /** Participants in the room other than the bot, after the change. */
    count: z.number().int().min(0),
  }),
  /** The room's server connection closed or the room was destroyed. */
  z.strictObject({ type: z.literal('room-lost'), reason: z.string() }),
  z.strictObject({
    type: z.literal('sip-progress'),
    event: z.enum(SIP_PROGRESS_EVENTS),
    code: z.number().int().optional(),
    reason: z.string().optional(),
    sipCallId: z.string().optional(),
    /** For `progress` and `accepted`: the audio codec the SIP peer answered with. */
    audioCodec: z.string().max(32).optional(),
    /** For `accepted`, when video was offered: whether the SIP peer accepted it, and with which codec each way. */
    video: z
      .strictObject({
        negotiated: z.boolean(),
        codec: z.string().optional(),
      })
      .optional(),
  }),
  /** The SIP leg ended: a failure response, a BYE, or the end of our own hangup. */
  z.strictObject({
    type: z.literal('sip-ended'),
    code: z.number().int().optional(),
    reason: z.string().optional(),
    /** `remote` when the peer ended it (failure response or BYE), `local` after our own hangup. */
    by: z.enum(['remote', 'local']),
  }),
  /** Dial-in: an INVITE reached the bot's registered handle; the worker claims it, then answers or declines. */
  z.strictObject({
    type: z.literal('sip-incoming'),
    sipCallId: z.string().min(1).max(256),
    from: z.string().max(512),
    displayName: z.string().max(256).optional(),
    to: z.string().max(512),
    headers: z.record(z.string().max(128), z.string().max(512)).default({}),
  }),
  /** Dial-in: the pending incoming call went away before it was answered (the caller or the registrar cancelled it). */
  z.strictObject({ type: z.literal('sip-incoming-gone'), sipCallId: z.string().max(256).optional() }),
  /** The SIP peer sent a digit (SIP INFO, or heard in its audio). */
  z.strictObject({
    type: z.literal('sip-dtmf'),
    digit: z.string().regex(DTMF_DIGIT_PATTERN),
    carriage: z.enum(DTMF_RECEIVED_CARRIAGES),
  }),
  /** The SIP leg went on hold or off hold; `held` is whether either side holds it now. */
  z.strictObject({ type: z.literal('sip-hold'), held: z.boolean(), by: z.enum(SIP_SIDES), change: z.enum(['hold', 'resume']) }),
  /** The SIP peer changed the media mid-call (re-INVITE) and the leg followed. */
  z.strictObject({ type: z.literal('sip-media-updated'), audioCodec: z.string().max(32).optional() }),
  /** A blind transfer's progress. */
  z.strictObject({
    type: z.literal('sip-transfer'),
    by: z.enum(SIP_SIDES),
    phase: z.enum(TRANSFER_PHASES),
    target: z.string().max(512),
    code: z.number().int().optional(),
    reason: z.string().max(256).optional(),
  }),
  /** First media seen in one direction of one leg. */
  z.strictObject({
    type: z.literal('media-flowing'),
    leg: z.enum(['sip', 'room']),
    kind: z.enum(['audio', 'video']),
    direction: z.enum(['in', 'out']),
  }),
  /** The Janus node used for SIP went away: the call cannot continue. */
  z.strictObject({ type: z.literal('janus-lost'), reason: z.string() }),
  /** A peer connection failed (ICE/DTLS). */
  z.strictObject({ type: z.literal('media-failed'), leg: z.enum(['sip', 'room']), reason: z.string() }),
  /** An error the page could not attribute to a command. */
  z.strictObject({ type: z.literal('page-error'), message: z.string().max(2_000) }),
]);
export type PageEvent = z.infer<typeof pageEventSchema>;
export type PageEventType = PageEvent['type'];
export type PageEventOf<T extends PageEventType> = Extract<PageEvent, { type: T }>;
