import type { FailureInfo } from './errors.js';
import type { DialRequest } from './dial-request.js';

/** The states of a call, in the order a successful call passes through them. */
export const CALL_STATES = [
  'QUEUED',
  'CLAIMED',
  'JOINING',
  'DIALING',
  'RINGING',
  'CONNECTED',
  'ENDED',
  'FAILED',
] as const;
export type CallState = (typeof CALL_STATES)[number];

export const FINAL_STATES: ReadonlySet<CallState> = new Set<CallState>(['ENDED', 'FAILED']);

/**
 * Which transitions are allowed. `QUEUED` is re-entered when a retryable failure hands the call back to the queue;
 * `QUEUED → ENDED` is a hangup requested before any worker took the call (nothing was dialed).
 */
export const CALL_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  QUEUED: ['CLAIMED', 'ENDED', 'FAILED'],
  CLAIMED: ['JOINING', 'QUEUED', 'ENDED', 'FAILED'],
  JOINING: ['DIALING', 'QUEUED', 'ENDED', 'FAILED'],
  DIALING: ['RINGING', 'CONNECTED', 'QUEUED', 'ENDED', 'FAILED'],
  RINGING: ['CONNECTED', 'ENDED', 'FAILED'],
  CONNECTED: ['ENDED', 'FAILED'],
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

/** One entry of a call's history: every state change, timestamped. */
export interface CallHistoryEntry {
  readonly state: CallState;
  /** ISO 8601 time of the change. */
  readonly at: string;
  /** Why, in words (e.g. "180 Ringing", "hangup requested", "retrying: JANUS_UNAVAILABLE"). */
  readonly detail?: string;
  /** SIP status code that caused the change, if any. */
  readonly sipCode?: number;
  readonly workerId?: string;
}

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
}

export interface LegQuality {
  readonly audioIn?: AudioStreamStats;
  readonly audioOut?: AudioStreamStats;
  readonly videoIn?: VideoStreamStats;
  readonly videoOut?: VideoStreamStats;
}

/** Quality summary of a call: the SIP leg and the room leg, each seen from the bridge. */
export interface QualitySummary {
  readonly sampledAt: string;
  readonly sip: LegQuality;
  readonly room: LegQuality;
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
}

/** The call record kept in the calls table, one per callId. */
export interface CallRecord {
  readonly callId: string;
  readonly state: CallState;
  /** Incremented on every write: the record's optimistic-concurrency version. */
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly history: readonly CallHistoryEntry[];
  /** The validated request (absent for a request that failed validation). */
  readonly request?: DialRequest;
  readonly to?: string;
  readonly workerId?: string;
  readonly janusNode?: string;
  /** Epoch milliseconds until which the owning worker holds the call. */
  readonly leaseExpiresAt?: number;
  /** How many workers have taken the call (retries after retryable failures). */
  readonly attempts: number;
  readonly sip?: SipInfo;
  readonly timings?: CallTimings;
  readonly hangupRequestedAt?: string;
  readonly endedBy?: EndedBy;
  readonly failure?: FailureInfo;
  /** The last retryable failure, while the call waits to be retried. */
  readonly lastError?: FailureInfo;
  readonly quality?: QualitySummary;
  readonly media?: CallMedia;
  readonly metadata?: Readonly<Record<string, string>>;
}
