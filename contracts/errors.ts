/**
 * Error codes shared by the client, the worker and the bot page.
 *
 * Every failure that ends a call carries one of these codes. `retryable` says whether the worker leaves the dial
 * message for SQS to deliver again (our own transient trouble) or records the call `FAILED` at once; a retryable
 * failure is retried only while the phone has not been rung (before Janus took the INVITE), never after. `fault` says
 * whose fault it is: the `caller` (bad request), the `remote` side (the SIP peer or the room), or `us` (the bridge
 * itself). The table of codes in docs/call-record.md is checked against this list (test/unit/error-codes.test.ts).
 */
export const ERROR_CODES = {
  /** The dial request failed validation. */
  INVALID_REQUEST: { retryable: false, fault: 'caller' },
  /** The request names a SIP trunk the worker has no configuration for. */
  TRUNK_UNKNOWN: { retryable: false, fault: 'caller' },
  /** An inbound call matched no route (its dialled number or headers): declined 404. */
  ROUTE_NOT_FOUND: { retryable: false, fault: 'caller' },
  /** A caller on a PIN line entered no valid PIN in the attempts allowed. */
  PIN_INVALID: { retryable: false, fault: 'caller' },
  /** The SIP peer answered 486 Busy Here or 600 Busy Everywhere. */
  SIP_BUSY: { retryable: false, fault: 'remote' },
  /** The SIP peer answered 603 Decline. */
  SIP_DECLINED: { retryable: false, fault: 'remote' },
  /** The SIP target does not exist (404 Not Found, 604 Does Not Exist Anywhere, 484 Address Incomplete). */
  SIP_NOT_FOUND: { retryable: false, fault: 'remote' },
  /** Nobody answered before the ring timeout (or the peer answered 408/480 while ringing). */
  SIP_NO_ANSWER: { retryable: false, fault: 'remote' },
  /** The SIP target could not be reached at all (no response, transport error, 503). */
  SIP_UNREACHABLE: { retryable: false, fault: 'remote' },
  /** The SIP peer or a proxy demanded credentials the bridge does not have (401/407/403). */
  SIP_AUTH_FAILED: { retryable: false, fault: 'remote' },
  /** Any other final SIP failure response. */
  SIP_REJECTED: { retryable: false, fault: 'remote' },
  /** The SIP offer/answer produced no usable media (488, ICE/DTLS failure on the SIP leg). */
  MEDIA_FAILED: { retryable: false, fault: 'us' },
  /** The room refused the bot (wrong room id, wrong pin, room full). */
  ROOM_JOIN_FAILED: { retryable: false, fault: 'caller' },
  /** The room's server could not be reached. */
  ROOM_UNREACHABLE: { retryable: true, fault: 'remote' },
  /** The Janus node used for the SIP leg failed or could not be reached. */
  JANUS_UNAVAILABLE: { retryable: true, fault: 'us' },
  /** The bot page stopped answering or failed a command (Chromium itself still runs). */
  BROWSER_FAILED: { retryable: true, fault: 'us' },
  /** Chromium exited or crashed under the call. */
  BROWSER_CRASHED: { retryable: true, fault: 'us' },
  /**
   * The worker that owned the call disappeared: its lease expired (found by the sweeper or by a redelivery). Never
   * retried: the record may lag the page, so the phone may have been rung.
   */
  WORKER_LOST: { retryable: false, fault: 'us' },
  /** The worker was told to stop (SIGTERM) before the call connected; retried if the phone had not been rung yet. */
  WORKER_SHUTDOWN: { retryable: true, fault: 'us' },
  /** Anything else: a defect in the bridge. */
  INTERNAL: { retryable: false, fault: 'us' },
} as const satisfies Record<string, { readonly retryable: boolean; readonly fault: Fault }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export const FAULTS = ['caller', 'remote', 'us'] as const;
export type Fault = (typeof FAULTS)[number];
export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export interface RoomlineErrorOptions {
  /** SIP final response code that caused the failure, when there was one. */
  readonly sipCode?: number;
  /** Override of the code's default retryability (e.g. a join failure known to be transient). */
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/** The one error type of Roomline: a code, whether retrying can help, and whose fault it is. */
export class RoomlineError extends Error {
  override readonly name = 'RoomlineError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly fault: Fault;
  readonly sipCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: RoomlineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.fault = ERROR_CODES[code].fault;
    this.sipCode = options.sipCode;
  }

  /** Plain data for records, logs and the page RPC. */
  toJSON(): FailureInfo {
    return {
      code: this.code,
      reason: this.message,
      retryable: this.retryable,
      fault: this.fault,
      ...(this.sipCode === undefined ? {} : { sipCode: this.sipCode }),
    };
  }

  /** Wraps anything thrown into a RoomlineError, keeping a RoomlineError as it is. */
  static from(error: unknown, fallback: ErrorCode = 'INTERNAL'): RoomlineError {
    if (error instanceof RoomlineError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new RoomlineError(fallback, message, { cause: error });
  }
}

/** How a failure is written into a call record and sent across the page RPC. */
export interface FailureInfo {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly retryable: boolean;
  readonly fault: Fault;
  readonly sipCode?: number;
}

/** Exhaustiveness check for `switch` over tagged unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new RoomlineError('INTERNAL', `unexpected ${what}: ${JSON.stringify(value)}`);
}
