import type { CallControl } from './call-control.js';
import type { FailureInfo } from './errors.js';
import type { DialRequest } from './dial-request.js';
import type { StoredRoomJoin } from './rooms/index.js';
import type { SetupTrace } from './setup-trace.js';
import type {
  DtmfCarriage,
  DtmfReceivedCarriage,
  SipSide,
  TransferPhase,
} from './telephony.js';

/** The states of a call, in the order a successful call passes through them. */
export const CALL_STATES = [
  'QUEUED',
  'CLAIMED',
  'JOINING',
  'DIALING',
  'RINGING',
  'CONNECTED',
  'ON_HOLD',
  'ENDED',
  'FAILED',
] as const;
export type CallState = (typeof CALL_STATES)[number];

export const FINAL_STATES: ReadonlySet<CallState> = new Set<CallState>(['ENDED', 'FAILED']);

/**
 * Which transitions are allowed. `QUEUED` is re-entered when a retryable failure hands the call back to the queue;
 * `ON_HOLD` is a connected call held by either side, and returns to `CONNECTED` when neither holds it any more.
 * `QUEUED → ENDED` is a hangup requested before any worker took the call (nothing was dialed).
 */
export const CALL_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  QUEUED: ['CLAIMED', 'ENDED', 'FAILED'],
  // DIALING straight from CLAIMED: a dial-in PIN line answers before it knows which room to join
  CLAIMED: ['JOINING', 'DIALING', 'QUEUED', 'ENDED', 'FAILED'],
  JOINING: ['DIALING', 'QUEUED', 'ENDED', 'FAILED'],
  DIALING: ['RINGING', 'CONNECTED', 'QUEUED', 'ENDED', 'FAILED'],
  RINGING: ['CONNECTED', 'ENDED', 'FAILED'],
  CONNECTED: ['ON_HOLD', 'ENDED', 'FAILED'],
  ON_HOLD: ['CONNECTED', 'ENDED', 'FAILED'],
  ENDED: [],
  FAILED: [],
};

export function isFinalState(state: CallState): boolean {
  return FINAL_STATES.has(state);
}

export function canTransition(from: CallState, to: CallState): boolean {
  return CALL_TRANSITIONS[from].includes(to);
}

/** Who ended a call that reached `ENDED`. */
export const ENDED_BY = ['caller', 'remote', 'room', 'limit', 'system'] as const;
export type EndedBy = (typeof ENDED_BY)[number];

/** The states in which a call is up: the SIP peer answered and the call has not ended. */
export const LIVE_STATES: ReadonlySet<CallState> = new Set<CallState>(['CONNECTED', 'ON_HOLD']);

/**
 * Something that happened on a live call's SIP leg, kept in its history. Digits sent are counted, never kept (they
 * may be a PIN); digits received are kept one entry each.
 */
export type CallEvent =
  /** The SIP peer sent a digit. */
  | { readonly type: 'dtmf-received'; readonly digit: string; readonly carriage: DtmfReceivedCarriage }
  /** The bridge sent digits: from the request's `dtmfAfterAnswer` or a control request. */
  | {
      readonly type: 'dtmf-sent';
      readonly count: number;
      readonly carriage: DtmfCarriage;
      readonly source: 'request' | 'control';
    }
  /** One side put the call on hold, or took it off hold. */
  | { readonly type: 'hold' | 'resume'; readonly by: SipSide }
  /** The SIP peer changed the media mid-call (a re-INVITE with another codec or address) and the bridge followed. */
  | { readonly type: 'media-updated'; readonly audioCodec?: string }
  /** A blind transfer: asked for by the peer (`remote`, a REFER to the bridge) or by the caller (`local`). */
  | {
      readonly type: 'transfer';
      readonly by: SipSide;
      readonly phase: TransferPhase;
      readonly target: string;
      readonly sipCode?: number;
    };
export type CallEventType = CallEvent['type'];

/** One entry of a call's history: every state change, and every call event, timestamped. */
export interface CallHistoryEntry {
  /** The call's state after this entry (an event that changes no state keeps the state before it). */
  readonly state: CallState;
  /** ISO 8601 time of the change. */
  readonly at: string;
  /** Why, in words (e.g. "180 Ringing", "hangup requested", "retrying: JANUS_UNAVAILABLE"). */
  readonly detail?: string;
  /** SIP status code that caused the change, if any. */
  readonly sipCode?: number;
  readonly workerId?: string;
  /** What happened on the SIP leg, when this entry records an event. */
  readonly event?: CallEvent;
}

/** The entries of a history that changed the state (events that kept the state left out). */
export function stateChanges(history: readonly CallHistoryEntry[]): CallHistoryEntry[] {
  return history.filter((entry, i) => i === 0 || entry.state !== history[i - 1]?.state);
}

/** Most event entries a record keeps; later events are logged but not recorded (a record must stay small). */
export const MAX_HISTORY_EVENTS = 500;

/** A control request in the call record: pending until the worker has carried it out (`done`) or could not (`failed`). */
export interface CallControlRequest {
  readonly id: string;
  readonly requestedAt: string;
  /** What is asked. A DTMF control's digits are removed once it is acknowledged (they may be a PIN). */
  readonly control: CallControl;
  readonly status: 'pending' | 'done' | 'failed';
  readonly doneAt?: string;
  /** Why it failed, in words. */
  readonly error?: string;
}

/** Most control requests a record holds; acknowledged ones make room for new ones, pending ones do not. */
export const MAX_CONTROL_REQUESTS = 16;

/** Audio statistics of one direction of one leg, from WebRTC getStats. */
export interface AudioStreamStats {
  readonly codec?: string;
  readonly packets: number;
  readonly packetsLost?: number;
  /** packetsLost / (packets + packetsLost), 0..1 */
  readonly lossRate?: number;
  readonly jitterMs?: number;
  /** Concealed samples / total samples received, 0..1 */
  readonly concealmentRate?: number;
  /** Samples received and samples concealed, the counts behind `concealmentRate` (rates over a window need them). */
  readonly samples?: number;
  readonly concealedSamples?: number;
  /** Average jitter-buffer delay in milliseconds. */
  readonly jitterBufferMs?: number;
  readonly roundTripMs?: number;
  /**
   * `relay`: the audio received was forwarded as it came and not decoded, so no decoder concealed anything; the
   * concealment figures count the forwarded direction's 20 ms frames the far end had to conceal instead (left unsent
   * because the payload was late, or dropped to keep the delay down; `samples` at 48 kHz), and there is no jitter
   * buffer. Absent: the decoder's own figures.
   */
  readonly concealmentFrom?: 'relay';
}

/** Video statistics of one direction of one leg. */
export interface VideoStreamStats {
  readonly codec?: string;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  readonly frames: number;
  readonly freezes?: number;
  readonly packetsLost?: number;
  /** Sent video: keyframe requests (RTCP PLI + FIR) the far end sent. */
  readonly keyFrameRequests?: number;
  /** Sent video: RTCP NACKs the far end sent (packets it asked again). */
  readonly nacks?: number;
}

export interface LegQuality {
  readonly audioIn?: AudioStreamStats;
  readonly audioOut?: AudioStreamStats;
  readonly videoIn?: VideoStreamStats;
  readonly videoOut?: VideoStreamStats;
}

/**
 * How one direction's audio crossed the bridge, in frames its sender sent: forwarded (the payload received from the
 * other leg, not decoded) or encoded by the bridge (its mix, silence, or a decoded track).
 */
export interface AudioPathStats {
  /** How it crosses now. */
  readonly mode: 'forward' | 'encode';
  readonly forwardedFrames: number;
  readonly encodedFrames: number;
  /** Received payloads left out to keep the delay down (each is 20 ms the far end conceals). */
  readonly droppedFrames: number;
  /** Frames not sent while forwarding because the next payload was late (the far end conceals them). */
  readonly skippedFrames: number;
  /** Changes between forwarded and encoded frames (a switch to the mix and back, or a pause of the speaker). */
  readonly switches: number;
  /** Why the last track this direction tried to forward could not be (e.g. another codec on the other leg). */
  readonly refused?: string;
}

/**
 * How one direction's video crossed the bridge, in frames its sender sent: forwarded (encoded frames as they came:
 * room → SIP when the SIP picture shows only one participant, SIP → room when the SIP picture is not split, and the
 * codecs match) or the bridge's own encoding (the composed picture, the SIP picture decoded and encoded again).
 */
export interface VideoPathStats {
  /** How it crosses now. */
  readonly mode: 'forward' | 'encode';
  readonly forwardedFrames: number;
  /** Keyframes of the source among the forwarded frames (forwarding starts at one; each far-end request brings one). */
  readonly forwardedKeyFrames: number;
  /** Frames of the composed picture the bridge encoded and sent. */
  readonly encodedFrames: number;
  /** Frames of the bridge's encoder not sent: while waiting for a keyframe (of the source, or its own after forwarding). */
  readonly droppedSlots: number;
  /** Received frames never sent (the slot clock fell behind; forwarding restarted at a keyframe). */
  readonly droppedFrames: number;
  /** Keyframe requests the bridge sent to the source: when forwarding starts, and for each PLI/FIR from the far end. */
  readonly keyFrameRequests: number;
  /** Keyframe requests (PLI/FIR) the far end sent the bridge while forwarding, each passed to the source. */
  readonly farEndKeyFrameRequests: number;
  /** Changes between forwarded frames and the bridge's own. */
  readonly switches: number;
  /** Why the last track this direction tried to forward could not be (another codec on the other leg). */
  readonly refused?: string;
}

/** Quality summary of a call: the SIP leg and the room leg, each seen from the bridge. */
export interface QualitySummary {
  readonly sampledAt: string;
  readonly sip: LegQuality;
  readonly room: LegQuality;
  /** Present where the bridge can forward encoded audio (ROOMLINE_ENCODED_FORWARDING, a room it owns the connections of). */
  readonly audioPath?: { readonly roomToSip: AudioPathStats; readonly sipToRoom: AudioPathStats };
  /**
   * Present where the bridge could forward encoded video (as audioPath): room → SIP when the SIP leg sends video,
   * SIP → room when the bot publishes the SIP peer's picture as its camera.
   */
  readonly videoPath?: { readonly roomToSip?: VideoPathStats; readonly sipToRoom?: VideoPathStats };
}

export interface SipInfo {
  /** Last SIP status code seen (provisional or final). */
  readonly lastCode?: number;
  readonly lastReason?: string;
  /** The SIP Call-ID of the outgoing INVITE, when Janus reported it. */
  readonly sipCallId?: string;
}

export interface CallTimings {
  readonly enqueuedAt?: string;
  readonly claimedAt?: string;
  readonly inviteAt?: string;
  readonly answeredAt?: string;
  readonly endedAt?: string;
}

/** What media the call carries, as negotiated with the SIP peer. */
export interface CallMedia {
  readonly audio: boolean;
  /** `off` when not asked for, `negotiated` when the SIP peer took it, `declined` when it answered audio only. */
  readonly video: 'off' | 'negotiated' | 'declined';
  /** The SIP leg's video codec, when negotiated (e.g. H264). */
  readonly sipVideoCodec?: string;
  /** The SIP leg's audio codec as answered by the peer (e.g. PCMU, G722, opus); a re-INVITE may change it. */
  readonly sipAudioCodec?: string;
}

/** A dial request as a call record keeps it: the room's secrets (pins, tokens) removed. */
export type StoredDialRequest = Omit<DialRequest, 'room'> & { readonly room: StoredRoomJoin };

/** The call record kept in the calls table, one per callId. */
export interface CallRecord {
  readonly callId: string;
  readonly state: CallState;
  /** Incremented on every write: the record's optimistic-concurrency version. */
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly history: readonly CallHistoryEntry[];
  /** The validated request, its room's secrets removed (absent for a request that failed validation). */
  readonly request?: StoredDialRequest;
  readonly to?: string;
  readonly workerId?: string;
  readonly janusNode?: string;
  /** Epoch milliseconds until which the owning worker holds the call. */
  readonly leaseExpiresAt?: number;
  /** How many workers have taken the call (retries after retryable failures). */
  readonly attempts: number;
  readonly sip?: SipInfo;
  readonly timings?: CallTimings;
  /** How long each step of the setup took, from the enqueue to the INVITE and the first audio (contracts/setup-trace.ts). */
  readonly setup?: SetupTrace;
  readonly hangupRequestedAt?: string;
  /** Control requests (DTMF, hold, resume, transfer), oldest first; see `MAX_CONTROL_REQUESTS`. */
  readonly controls?: readonly CallControlRequest[];
  readonly endedBy?: EndedBy;
  readonly failure?: FailureInfo;
  /** The last retryable failure, while the call waits to be retried. */
  readonly lastError?: FailureInfo;
  readonly quality?: QualitySummary;
  readonly media?: CallMedia;
  readonly metadata?: Readonly<Record<string, string>>;
  /** `inbound` for a call a phone made to the dial-in address; absent (or `outbound`) for a dial request's call. */
  readonly direction?: CallDirection;
  /** Who called, for an inbound call: the From URI's number and display name. */
  readonly caller?: CallerInfo;
  /** The route an inbound call took (its key, e.g. `number:+15551230000`). */
  readonly routeId?: string;
}

export const CALL_DIRECTIONS = ['outbound', 'inbound'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

/** The caller of an inbound call, as its INVITE's From named them. */
export interface CallerInfo {
  readonly uri: string;
  readonly number: string;
  readonly displayName?: string;
}
