import type { CallRecord, CallState } from '../contracts/call-record.js';
import type { Route } from '../contracts/dial-in.js';
import type { DialRequest, RoomJoin } from '../contracts/dial-request.js';
import type { CallStore } from './call-store.js';
import type { Logger } from './logger.js';
import type { PageBridge } from './page-bridge.js';
import type { SetupRecorder } from './setup-recorder.js';
import type { TrunkCredentials } from './trunks.js';

/** A routed PIN: the request the call runs as once the PIN opened its route. */
export interface RoutedPin {
  readonly request: DialRequest & { callId: string };
  readonly route: Route;
}

/** How an inbound call is taken. */
export interface InboundCallOptions {
  readonly callerNumber: string;
  /**
   * A PIN line: the bridge answers first, asks for a PIN (spoken prompts), and `lookup` finds the route the PIN opens;
   * the bot then joins that route's room. Digits entered here are never recorded.
   */
  readonly pin?: {
    readonly lookup: (digits: string) => Promise<RoutedPin | undefined>;
    /** Tries before the call ends FAILED PIN_INVALID. @default 3 */
    readonly attempts?: number;
    /** Seconds a caller has to enter one PIN after its prompt. @default 15 */
    readonly entryTimeoutS?: number;
  };
}

/** What a call session uses of the bot page's RPC. */
export type CallPage = Pick<PageBridge, 'send' | 'request' | 'on' | 'onUnresponsive'>;

/** The room's join data as the page needs it, and what undoes its preparation when the call ends. */
export interface PreparedRoom {
  readonly room: RoomJoin;
  /** Undoes what was made for the call (e.g. deletes Chime attendees). Never throws. */
  release(): Promise<void>;
}

export interface CallObserver {
  /** Called after each state change was written. */
  stateChanged(record: CallRecord, previous: CallState): void;
}

export interface CallSessionOptions {
  readonly request: DialRequest & { callId: string };
  readonly record: CallRecord;
  readonly store: CallStore;
  readonly bridge: CallPage;
  readonly logger: Logger;
  readonly workerId: string;
  readonly janusNode: string;
  readonly defaultFrom: string;
  readonly leaseMs: number;
  /** The worker's ceiling on video size and rate, whatever the request asks. */
  readonly videoCaps: { readonly width: number; readonly height: number; readonly fps: number };
  /** The request's trunk: credentials and settings, looked up at the start of the call; none for a guest call. */
  readonly trunk?: () => Promise<TrunkCredentials>;
  /** How often a connected call's quality summary is written into its record, in ms; 0 = only at the end. @default 0 */
  readonly qualityIntervalMs?: number;
  /** The worker's usual page command timeout, in ms (a longer join takes the longer). @default 0 */
  readonly pageTimeoutMs?: number;
  /** How often the record is read for a hangup or control request. @default 1000 */
  readonly watchIntervalMs?: number;
  readonly observer?: CallObserver;
  /**
   * The call's setup trace so far (the queue, the request's checks, the claim), which the session goes on with and
   * keeps in the record. @default a trace from the session's start (dial-in: from the claimed INVITE)
   */
  readonly setup?: SetupRecorder;
  /**
   * Dial-in: the call is an INVITE this worker claimed; once the bot is in the room it answers it (200 OK) instead of
   * dialling. Until then the caller hears ringing; a call ended before the answer is declined (480).
   * @default undefined (a dialled call)
   */
  readonly inbound?: InboundCallOptions;
  /**
   * Provider-specific work once the call is JOINING, before the bot joins: turns the request's room into what the
   * page joins (a Chime meetingId into attendees of its own) and readies the page (page mode: opens the customer's
   * app); a failure fails or retries the call like a failed join. @default the room as given
   */
  readonly prepareRoom?: (
    room: RoomJoin,
    names: { readonly callId: string; readonly display: string; readonly tiles: readonly string[] },
  ) => Promise<PreparedRoom>;
}
