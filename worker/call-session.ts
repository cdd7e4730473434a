import { setTimeout as sleep } from 'node:timers/promises';
import {
  isFinalState,
  type CallControlRequest,
  type CallEvent,
  type CallMedia,
  type CallRecord,
  type CallState,
  type EndedBy,
  type QualitySummary,
} from '../contracts/call-record.js';
import { parseCallControl } from '../contracts/call-control.js';
import { splitTileNames, type DialRequest, type MediaOptions, type RoomJoin } from '../contracts/dial-request.js';
import { RoomlineError, assertNever, type FailureInfo } from '../contracts/errors.js';
import { describeSipCode, errorCodeForSipFailure } from '../contracts/sip-codes.js';
import type { PageEventOf, SipLegOptions } from '../contracts/page-rpc.js';
import { roomJoinTimeoutS } from '../contracts/rooms/index.js';
import { dtmfDigitCount, type DtmfCarriage } from '../contracts/telephony.js';
import {
  acknowledgeControl,
  pendingControls,
  recordEvent,
  transition,
  type EventInput,
  type TransitionInput,
} from './call-state.js';
import type { CallStore } from './call-store.js';
import { leaseRenewalMs } from './lease-timing.js';
import type { Logger } from './logger.js';
import type { PageBridge } from './page-bridge.js';
import type { TrunkCredentials } from './trunks.js';

/** Seconds the ring timer allows, beyond the ring timeout, for Janus to report the INVITE sent. */
const RING_BACKSTOP_S = 10;

/** How long a stopping worker (SIGTERM) waits for the hangup and the statistics, so its final record is written in time. */
const SHUTDOWN_HANGUP_MS = 3_500;
const SHUTDOWN_STATS_MS = 1_000;
/** How long a record write is retried through an outage of the table (a stopping worker: less). */
const WRITE_RETRY_MS = 30_000;
const SHUTDOWN_WRITE_RETRY_MS = 3_000;

/**
 * Where the INVITE is: `not-sent` (nothing reached Janus, or the page says Janus did not take it: a retry is safe),
 * `in-flight` (the dial command is out), `taken` (Janus took it: the phone rings), `unknown` (no answer from the page,
 * or a failure after the INVITE may have left: the phone may be ringing, so the call is never retried).
 */
type InviteState = 'not-sent' | 'in-flight' | 'taken' | 'unknown';

/** Why the bridge decided to end a call (the first reason wins). */
export type EndIntent =
  | { readonly kind: 'hangup-requested' }
  | { readonly kind: 'ring-timeout' }
  | { readonly kind: 'max-duration' }
  | { readonly kind: 'room-empty' }
  | { readonly kind: 'room-lost'; readonly reason: string }
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'failure'; readonly error: RoomlineError }
  /** The record says the call is no longer this worker's (another closed it as WORKER_LOST): hang up, write nothing. */
  | { readonly kind: 'lease-lost'; readonly record: CallRecord | undefined };

/** How a call session ended, for the worker: a final record, or a failure to hand back to the queue. */
export type SessionOutcome =
  | { readonly kind: 'final'; readonly record: CallRecord }
  | { readonly kind: 'retry'; readonly failure: FailureInfo; readonly record: CallRecord };

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
   * Provider-specific work once the call is JOINING, before the bot joins: turns the request's room into what the
   * page joins (a Chime meetingId into attendees of its own) and readies the page (page mode: opens the customer's
   * app); a failure fails or retries the call like a failed join. @default the room as given
   */
  readonly prepareRoom?: (
    room: RoomJoin,
    names: { readonly callId: string; readonly display: string; readonly tiles: readonly string[] },
  ) => Promise<PreparedRoom>;
}

/**
 * One call: drives the states (claimed → joining → dialing → ringing → connected → ended | failed) from the page's
 * events and its own timers, writes each change to the call record, watches the record for a hangup request, and
 * ends the call exactly once, for the first reason that comes.
 */
export class CallSession {
  private record: CallRecord;
  private writes: Promise<unknown> = Promise.resolve();
  private intent: EndIntent | undefined;
  private invite: InviteState = 'not-sent';
  /** Settles when the dial command has been answered (or failed). */
  private dialSettled: Promise<void> = Promise.resolve();
  private leaseTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private ringing = false;
  private connected = false;
  private sipEnded: PageEventOf<'sip-ended'> | undefined;
  /** Held by either side now (decided on events: record writes may lag). */
  private held = false;
  /** A blind transfer the caller asked for, once the peer reported it done: the end that follows is expected. */
  private transferredTo: string | undefined;
  /** The media the record shows once connected; codec changes update it. */
  private callMedia: CallMedia | undefined;
  /** How digits are sent on this call (request, else trunk, else RFC 2833). */
  private dtmfCarriage: DtmfCarriage = 'rfc2833';
  /** Control requests already taken (by id), and the queue that carries them out one after another. */
  private readonly controlsTaken = new Set<string>();
  private controlQueue: Promise<void> = Promise.resolve();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribers: (() => void)[] = [];
  private resolveEnd: () => void = () => undefined;
  private readonly ended = new Promise<void>((resolve) => (this.resolveEnd = resolve));
  private watching = true;
  private readonly stopWatching = new AbortController();

  private readonly media: MediaOptions;

  constructor(private readonly options: CallSessionOptions) {
    this.record = options.record;
    this.media = capMedia(options.request.media, options.videoCaps);
  }

  get callId(): string {
    return this.options.request.callId;
  }

  /** Ends the call because the worker is stopping (SIGTERM). */
  shutdown(): void {
    this.end({ kind: 'shutdown' });
  }

  /** Ends the call because Chromium went away under it. */
  browserCrashed(reason: string): void {
    this.end({ kind: 'failure', error: new RoomlineError('BROWSER_CRASHED', reason) });
  }

  /** Whether the phone may have been rung: from the moment the dial command left, unless the page said Janus refused it. */
  private get mayHaveRung(): boolean {
    return this.invite !== 'not-sent';
  }

  async run(): Promise<SessionOutcome> {
    const { request, bridge, logger } = this.options;
    this.listen();
    this.renewLeaseEvery(leaseRenewalMs(this.options.leaseMs));
    const watcher = this.watchRecord();
    try {
      const trunk = await this.options.trunk?.();
      const sip = this.sipLegOptions(trunk);
      if (this.intent !== undefined) return await this.finish();
      // state writes are queued in order; the call does not wait for them
      void this.step({ to: 'JOINING', janusNode: this.options.janusNode, detail: `room ${request.room.provider}` });
      const prepared = await this.prepareRoom();
      // a provider may need longer to join than a page command usually takes (a web app's join steps)
      const joinTimeoutS = roomJoinTimeoutS(prepared);
      const joined = await bridge.send(
        {
          type: 'join-room',
          room: prepared,
          display: this.display(),
          media: this.media,
          dataMessages: request.sip.dtmfToRoom,
        },
        ...(joinTimeoutS === undefined ? [] : [Math.max(this.options.pageTimeoutMs ?? 0, (joinTimeoutS + 10) * 1000)]),
      );
      logger.info({ participants: joined.participants.length }, 'joined the room');
      if (joined.participants.length === 0) this.startEmptyRoomTimer();
      if (this.intent !== undefined) return await this.finish();

      void this.step({ to: 'DIALING', detail: `INVITE ${request.to}` });
      // the ring timeout counts from the INVITE (Janus's `calling`); until then a backstop in case it never comes
      this.startTimer('ring', (request.limits.ringTimeoutS + RING_BACKSTOP_S) * 1000, () => this.end({ kind: 'ring-timeout' }));
      await this.dial(trunk, sip);
      await this.ended;
      return await this.finish();
    } catch (error) {
      const failure = RoomlineError.from(error);
      logger.warn({ code: failure.code, error: failure.message, invite: this.invite }, 'call setup failed');
      this.end({ kind: 'failure', error: failure });
      return await this.finish();
    } finally {
      this.watching = false;
      this.stopWatching.abort();
      this.stopLeaseRenewal();
      await watcher;
      for (const unsubscribe of this.unsubscribers) unsubscribe();
      for (const timer of this.timers.values()) clearTimeout(timer);
      await this.releaseRoom?.();
    }
  }

  /**
   * Sends the dial command and keeps track of whether the phone may ring: `taken` once the page says Janus took the
   * INVITE; back to `not-sent` only when the page says Janus did not (a retryable failure); `unknown` otherwise.
   */
  private async dial(trunk: TrunkCredentials | undefined, sip: SipLegOptions): Promise<void> {
    const { request, bridge } = this.options;
    this.invite = 'in-flight';
    let settle: () => void = () => undefined;
    this.dialSettled = new Promise((resolve) => (settle = resolve));
    try {
      const outcome = await bridge.request({
        type: 'dial',
        to: request.to,
        // through a trunk the From is the trunk's identity, with the request's display name
        from:
          trunk === undefined
            ? (request.from ?? { uri: this.options.defaultFrom })
            : { uri: trunk.username, ...(request.from?.displayName === undefined ? {} : { displayName: request.from.displayName }) },
        headers: request.headers ?? {},
        media: this.media,
        display: this.display(),
        ...(trunk === undefined ? {} : { account: trunk.toSipAccount() }),
        sip,
      });
      if (outcome.kind === 'ok') {
        this.invite = 'taken';
        return;
      }
      this.invite = outcome.error.retryable ? 'not-sent' : 'unknown';
      throw outcome.error;
    } catch (error) {
      if (this.invite === 'in-flight') this.invite = 'unknown';
      throw error;
    } finally {
      settle();
    }
  }

  /** The SIP leg's settings: the request's, else its trunk's, else the defaults. */
  private sipLegOptions(trunk: TrunkCredentials | undefined): SipLegOptions {
    const wanted = this.options.request.sip;
    this.dtmfCarriage = wanted.dtmf ?? trunk?.dtmf ?? 'rfc2833';
    const audioCodecs = wanted.audioCodecs ?? trunk?.audioCodecs;
    return {
      srtp: wanted.srtp ?? trunk?.srtp ?? 'off',
      ...(audioCodecs === undefined ? {} : { audioCodecs: [...audioCodecs] }),
      detectDtmf: true,
      transfer: wanted.transfer,
      dtmfToRoom: wanted.dtmfToRoom,
    };
  }

  private releaseRoom: (() => Promise<void>) | undefined;

  private async prepareRoom(): Promise<RoomJoin> {
    const { request } = this.options;
    if (this.options.prepareRoom === undefined) return request.room;
    const display = this.display();
    const split = this.media.splitIncoming;
    const prepared = await this.options.prepareRoom(request.room, {
      callId: request.callId,
      display,
      tiles: split === undefined ? [] : splitTileNames(split, display),
    });
    this.releaseRoom = () => prepared.release();
    return prepared.room;
  }

  private display(): string {
    const { request } = this.options;
    if (request.room.display !== undefined) return request.room.display;
    const user = /^sips?:([^@;]+)@/.exec(request.to)?.[1];
    return `Phone ${user ?? request.to.replace(/^sips?:/, '')}`;
  }

  private listen(): void {
    const { bridge, logger } = this.options;
    this.unsubscribers.push(
      bridge.on('sip-progress', (event) => this.onSipProgress(event)),
      bridge.on('sip-ended', (event) => {
        logger.info({ code: event.code, reason: event.reason, by: event.by }, 'SIP leg ended');
        this.sipEnded = event;
        this.resolveEnd();
      }),
      bridge.on('room-participant', (event) => {
        logger.info({ change: event.change, count: event.count }, 'room participant');
        if (event.count === 0) this.startEmptyRoomTimer();
        else this.stopTimer('empty-room');
      }),
      bridge.on('room-lost', (event) => this.end({ kind: 'room-lost', reason: event.reason })),
      bridge.on('janus-lost', (event) =>
        this.end({ kind: 'failure', error: new RoomlineError('JANUS_UNAVAILABLE', `Janus session lost: ${event.reason}`) }),
      ),
      bridge.on('media-failed', (event) =>
        this.end({ kind: 'failure', error: new RoomlineError('MEDIA_FAILED', `${event.leg} leg: ${event.reason}`) }),
      ),
      bridge.on('media-flowing', (event) => logger.info({ leg: event.leg, kind: event.kind, direction: event.direction }, 'media flowing')),
      bridge.on('sip-dtmf', (event) => {
        // the digit goes to the record, not the log (it may be a PIN)
        logger.info({ carriage: event.carriage }, 'digit received');
        void this.event({ type: 'dtmf-received', digit: event.digit, carriage: event.carriage }, `DTMF ${event.digit} (${event.carriage})`);
      }),
      bridge.on('sip-hold', (event) => this.onHold(event)),
      bridge.on('sip-media-updated', (event) => {
        logger.info({ audioCodec: event.audioCodec }, 'SIP peer changed the media');
        if (this.callMedia !== undefined && event.audioCodec !== undefined) this.callMedia = { ...this.callMedia, sipAudioCodec: event.audioCodec };
        void this.event(
          { type: 'media-updated', ...(event.audioCodec === undefined ? {} : { audioCodec: event.audioCodec }) },
          `re-INVITE followed${event.audioCodec === undefined ? '' : ` (audio ${event.audioCodec})`}`,
          this.callMedia === undefined ? {} : { media: this.callMedia },
        );
      }),
      bridge.on('sip-transfer', (event) => {
        logger.info({ by: event.by, phase: event.phase, code: event.code }, 'transfer');
        if (event.by === 'local' && event.phase === 'followed') this.transferredTo = event.target;
        const words = `${event.by === 'remote' ? 'the SIP peer asked to transfer' : 'transfer'} to ${event.target}: ${event.phase}`;
        void this.event(
          {
            type: 'transfer',
            by: event.by,
            phase: event.phase,
            target: event.target,
            ...(event.code === undefined ? {} : { sipCode: event.code }),
          },
          `${words}${event.reason === undefined ? '' : ` (${event.reason})`}`,
          event.code === undefined ? {} : { sipCode: event.code },
        );
      }),
    );
    bridge.onUnresponsive((reason) => this.end({ kind: 'failure', error: new RoomlineError('BROWSER_FAILED', reason) }));
  }

  private onSipProgress(event: PageEventOf<'sip-progress'>): void {
    const now = new Date();
    const sip = {
      ...(event.code === undefined ? {} : { lastCode: event.code, lastReason: event.reason ?? describeSipCode(event.code) }),
      ...(event.sipCallId === undefined ? {} : { sipCallId: event.sipCallId }),
    };
    switch (event.event) {
      case 'calling':
        // early media (183) or not, the callee has this long from the INVITE
        if (!this.connected) {
          this.startTimer('ring', this.options.request.limits.ringTimeoutS * 1000, () => this.end({ kind: 'ring-timeout' }));
        }
        void this.patch({ sip, timings: { inviteAt: now.toISOString() } });
        break;
      case 'ringing':
      case 'proceeding':
      case 'progress': {
        const code = event.code ?? (event.event === 'progress' ? 183 : 180);
        // the state is decided here, synchronously: writes are queued, so the record may lag behind the events
        if (!this.ringing && !this.connected && code >= 180) {
          this.ringing = true;
          void this.step({ to: 'RINGING', sipCode: code, detail: `${code} ${describeSipCode(code)}`, sip });
        } else {
          void this.patch({ sip });
        }
        break;
      }
      case 'accepted': {
        this.connected = true;
        this.stopTimer('ring');
        this.startTimer('max-duration', this.options.request.limits.maxDurationS * 1000, () =>
          this.end({ kind: 'max-duration' }),
        );
        this.callMedia = {
          audio: this.media.audio,
          video: this.media.video === 'off' ? 'off' : event.video?.negotiated === true ? 'negotiated' : 'declined',
          ...(event.video?.codec === undefined ? {} : { sipVideoCodec: event.video.codec }),
          ...(event.audioCodec === undefined ? {} : { sipAudioCodec: event.audioCodec }),
        };
        void this.step({
          to: 'CONNECTED',
          sipCode: 200,
          detail: event.video?.negotiated === false ? '200 OK (audio only: the SIP peer declined video)' : '200 OK',
          sip,
          timings: { answeredAt: now.toISOString() },
          media: this.callMedia,
        });
        this.sampleQualityEvery(this.options.qualityIntervalMs ?? 0);
        const digits = this.options.request.sip.dtmfAfterAnswer;
        if (digits !== undefined) this.enqueueControl(() => this.sendDtmf(digits, this.dtmfCarriage, 'request'));
        break;
      }
      default:
        assertNever(event.event, 'SIP progress event');
    }
  }

  /**
   * Records the first reason to end the call and hangs up the SIP leg if the phone may be ringing: at once, or, while
   * the dial command is out, as soon as it is answered (a hangup then is a CANCEL, never a call left up).
   */
  private end(intent: EndIntent): void {
    if (this.intent !== undefined) return;
    this.intent = intent;
    this.options.logger.info({ reason: intent.kind, invite: this.invite }, 'ending the call');
    if (this.invite === 'in-flight') {
      void this.dialSettled.then(() => this.hangUp());
      return;
    }
    this.hangUp();
  }

  private hangUp(): void {
    if (this.invite === 'not-sent' || this.sipEnded !== undefined) {
      this.resolveEnd();
      return;
    }
    const timeoutMs = this.intent?.kind === 'shutdown' ? SHUTDOWN_HANGUP_MS : 8_000;
    void this.options.bridge
      .send({ type: 'hangup' }, timeoutMs)
      .catch((error: unknown) => this.options.logger.warn({ error: String(error) }, 'hangup through the page failed'))
      .finally(() => this.resolveEnd());
  }

  /** Writes the final state (or hands the call back for a retry) once the SIP leg is down. */
  private async finish(): Promise<SessionOutcome> {
    await this.writes.catch(() => undefined);
    const intent = this.intent;
    if (intent?.kind === 'lease-lost') {
      // someone else closed the call (WORKER_LOST): its record is final and not this worker's to write
      return { kind: 'final', record: intent.record ?? this.record };
    }
    const shuttingDown = intent?.kind === 'shutdown';
    const quality = this.invite === 'taken' ? await this.quality(shuttingDown ? SHUTDOWN_STATS_MS : 3_000) : undefined;
    const ending = this.resolveEnding();
    if (ending.kind === 'retry') return { kind: 'retry', failure: ending.failure, record: this.record };
    await this.step({ ...ending.input, ...(quality === undefined ? {} : { quality }) }, shuttingDown ? SHUTDOWN_WRITE_RETRY_MS : WRITE_RETRY_MS);
    await this.writes.catch(() => undefined);
    return { kind: 'final', record: this.record };
  }

  private resolveEnding():
    | { kind: 'retry'; failure: FailureInfo }
    | { kind: 'final'; input: Omit<TransitionInput, 'workerId' | 'now'> } {
    const intent = this.intent;
    const sip = this.sipEnded;
    const connected = this.connected;
    const ended = (endedBy: EndedBy, detail: string, sipCode?: number) => ({
      kind: 'final' as const,
      input: { to: 'ENDED' as const, endedBy, detail, ...(sipCode === undefined ? {} : { sipCode }) },
    });
    const failed = (error: RoomlineError) => ({
      kind: 'final' as const,
      input: {
        to: 'FAILED' as const,
        failure: error.toJSON(),
        detail: `${error.code}: ${error.message}`,
        ...(error.sipCode === undefined ? {} : { sipCode: error.sipCode }),
      },
    });
    if (intent === undefined) {
      // the SIP leg ended by itself: a failure response before answer, a BYE after
      if (connected && this.transferredTo !== undefined) return ended('caller', `transferred to ${this.transferredTo}`);
      if (connected) return ended('remote', `remote hangup${sip?.reason ? ` (${sip.reason})` : ''}`, sip?.code);
      const code = sip?.code;
      const errorCode = errorCodeForSipFailure(code);
      const reason = code === undefined ? sip?.reason ?? 'no SIP response' : `${code} ${sip?.reason ?? describeSipCode(code)}`;
      return failed(new RoomlineError(errorCode, reason, code === undefined ? {} : { sipCode: code }));
    }
    switch (intent.kind) {
      case 'hangup-requested':
        return ended(
          'caller',
          connected ? 'hangup requested' : this.mayHaveRung ? 'cancelled before answer' : 'hung up before the phone was dialed',
        );
      case 'ring-timeout':
        return failed(
          new RoomlineError('SIP_NO_ANSWER', `no answer within ${this.options.request.limits.ringTimeoutS} s`, {
            ...(sip?.code === undefined ? {} : { sipCode: sip.code }),
          }),
        );
      case 'max-duration':
        return ended('limit', `maximum duration of ${this.options.request.limits.maxDurationS} s reached`);
      case 'room-empty':
        return ended('room', `room empty for ${this.options.request.limits.emptyRoomTimeoutS} s`);
      case 'room-lost': {
        if (connected) return ended('room', intent.reason);
        const error = new RoomlineError('ROOM_UNREACHABLE', intent.reason, { retryable: !this.mayHaveRung });
        return error.retryable ? { kind: 'retry', failure: error.toJSON() } : failed(error);
      }
      case 'shutdown': {
        if (connected) return ended('system', 'worker shutting down');
        const error = new RoomlineError('WORKER_SHUTDOWN', 'worker shut down before the call connected', {
          retryable: !this.mayHaveRung,
        });
        return error.retryable ? { kind: 'retry', failure: error.toJSON() } : failed(error);
      }
      case 'failure':
        // retried exactly when the phone cannot have been rung
        if (intent.error.retryable && !this.mayHaveRung) return { kind: 'retry', failure: intent.error.toJSON() };
        return failed(
          this.mayHaveRung
            ? new RoomlineError(intent.error.code, intent.error.message, {
                retryable: false,
                ...(intent.error.sipCode === undefined ? {} : { sipCode: intent.error.sipCode }),
              })
            : intent.error,
        );
      case 'lease-lost':
        // finish() writes nothing for a call taken over; this is what the record would have said
        return failed(new RoomlineError('WORKER_LOST', 'the call was taken over', { retryable: false }));
      default:
        return assertNever(intent, 'end intent');
    }
  }

  private async quality(timeoutMs = 3_000): Promise<QualitySummary | undefined> {
    try {
      return await this.options.bridge.send({ type: 'get-stats' }, timeoutMs);
    } catch (error) {
      this.options.logger.warn({ error: String(error) }, 'no quality statistics at the end of the call');
      return undefined;
    }
  }

  /** A state change, serialised after earlier writes, retried through an outage of the table for up to `retryMs`. */
  private step(input: Omit<TransitionInput, 'workerId' | 'now'>, retryMs = WRITE_RETRY_MS): Promise<void> {
    return this.enqueueWrite(retryMs, async () => {
      if (isFinalState(this.record.state)) return;
      const previous = this.record.state;
      this.record = await this.options.store.update(
        this.callId,
        (current) => transition(current ?? this.record, { ...input, workerId: this.options.workerId, now: new Date() }),
        { known: this.record },
      );
      this.options.logger.info({ state: this.record.state, from: previous, detail: input.detail }, 'call state');
      this.options.observer?.stateChanged(this.record, previous);
    });
  }

  /** A change of SIP details, timings or live quality without a state change. */
  private patch(change: {
    sip?: TransitionInput['sip'];
    timings?: TransitionInput['timings'];
    quality?: TransitionInput['quality'];
  }): Promise<void> {
    return this.enqueueWrite(WRITE_RETRY_MS, async () => {
      if (isFinalState(this.record.state)) return;
      this.record = await this.options.store.update(
        this.callId,
        (current) => {
          const base = current ?? this.record;
          return {
            ...base,
            revision: base.revision + 1,
            updatedAt: new Date().toISOString(),
            ...(change.sip === undefined ? {} : { sip: { ...base.sip, ...change.sip } }),
            ...(change.timings === undefined ? {} : { timings: { ...base.timings, ...change.timings } }),
            ...(change.quality === undefined ? {} : { quality: change.quality }),
          };
        },
        { known: this.record },
      );
    });
  }

  /**
   * Queues a write after the earlier ones. A write that fails because the table cannot be reached (not because the
   * change is refused) is tried again with backoff for up to `retryMs`: a table that comes back gets every state.
   */
  private enqueueWrite(retryMs: number, write: () => Promise<void>): Promise<void> {
    const next = this.writes.then(() => this.retrying(write, retryMs));
    this.writes = next.catch((error: unknown) =>
      this.options.logger.error({ error: String(error) }, 'writing the call record failed'),
    );
    return next;
  }

  private async retrying(write: () => Promise<void>, retryMs: number): Promise<void> {
    const deadline = Date.now() + retryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await write();
        return;
      } catch (error) {
        const refused = error instanceof RoomlineError && !error.retryable;
        if (refused || Date.now() >= deadline) throw error;
        const waitMs = Math.min(2_000, 200 * 2 ** attempt);
        this.options.logger.warn({ error: String(error), retryInMs: waitMs }, 'writing the call record failed: retrying');
        await sleep(waitMs);
      }
    }
  }

  /**
   * Renews the call's lease on its own timer, apart from the record's other writes (which may wait behind an outage),
   * each attempt abandoned before the next is due. When the record says the call is no longer this worker's (the
   * sweeper or a redelivery closed it as WORKER_LOST while this worker could not renew), the call is hung up at once.
   */
  private renewLeaseEvery(periodMs: number): void {
    this.renewing = true;
    const renew = async (): Promise<void> => {
      let nextMs = periodMs;
      try {
        const renewal = await this.options.store.renewLease(this.callId, this.options.workerId, this.options.leaseMs, {
          abortSignal: AbortSignal.timeout(Math.max(200, periodMs - 100)),
        });
        if (renewal.kind === 'lost') {
          this.leaseLost(renewal.record);
          return;
        }
      } catch (error) {
        nextMs = Math.min(1_000, periodMs);
        this.options.logger.warn({ error: String(error), retryInMs: nextMs }, 'renewing the lease failed');
      }
      if (this.renewing) this.leaseTimer = setTimeout(() => void renew(), nextMs);
    };
    this.leaseTimer = setTimeout(() => void renew(), periodMs);
  }

  private stopLeaseRenewal(): void {
    this.renewing = false;
    if (this.leaseTimer !== undefined) clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
  }

  /** The record says the call is not this worker's any more: unless it ended it itself, hang up at once. */
  private leaseLost(record: CallRecord | undefined): void {
    this.stopLeaseRenewal();
    if (this.intent !== undefined) return; // this worker is ending the call itself (its own final write)
    this.options.logger.error(
      { state: record?.state, owner: record?.workerId, failure: record?.failure?.code },
      'the call was taken over while this worker held it: hanging up at once',
    );
    this.end({ kind: 'lease-lost', record });
  }

  /**
   * Reads the record at once and then every second: a hangup request ends the call; a record that is no longer this
   * worker's (closed as WORKER_LOST meanwhile) ends it too, without writing.
   */
  private async watchRecord(): Promise<void> {
    const interval = this.options.watchIntervalMs ?? 1_000;
    while (this.watching) {
      try {
        const stored = await this.options.store.get(this.callId);
        if (stored !== undefined && (stored.workerId !== this.options.workerId || isFinalState(stored.state))) {
          this.leaseLost(stored);
        } else if (stored?.hangupRequestedAt !== undefined) {
          this.end({ kind: 'hangup-requested' });
        } else if (stored !== undefined) {
          this.takeControls(stored);
        }
      } catch (error) {
        this.options.logger.warn({ error: String(error) }, 'watching the call record failed');
      }
      await sleep(interval, undefined, { signal: this.stopWatching.signal }).catch(() => undefined);
    }
  }

  /** A call event in the record's history (a digit, a transfer's progress, a media update), after earlier writes. */
  private event(event: CallEvent, detail: string, extra: Pick<EventInput, 'sipCode' | 'media'> = {}): Promise<void> {
    return this.enqueueWrite(WRITE_RETRY_MS, async () => {
      if (isFinalState(this.record.state)) return;
      this.record = await this.options.store.update(
        this.callId,
        (current) =>
          recordEvent(current ?? this.record, { event, detail, ...extra, workerId: this.options.workerId, now: new Date() }),
        { known: this.record },
      );
    });
  }

  /** Hold or resume by either side: `ON_HOLD` while either holds the call, `CONNECTED` again when neither does. */
  private onHold(event: PageEventOf<'sip-hold'>): void {
    this.options.logger.info({ by: event.by, change: event.change, held: event.held }, 'hold changed');
    const entry: CallEvent = { type: event.change, by: event.by };
    const detail = `${event.change === 'hold' ? 'put on hold' : 'taken off hold'} by the ${event.by === 'remote' ? 'SIP peer' : 'caller'}`;
    if (!this.connected || this.intent !== undefined) return;
    if (event.held !== this.held) {
      this.held = event.held;
      void this.step({ to: event.held ? 'ON_HOLD' : 'CONNECTED', event: entry, detail });
    } else {
      void this.event(entry, detail);
    }
  }

  /** Takes the record's new control requests, in order, into the control queue. */
  private takeControls(stored: CallRecord): void {
    for (const request of pendingControls(stored)) {
      if (this.controlsTaken.has(request.id)) continue;
      this.controlsTaken.add(request.id);
      this.enqueueControl(() => this.carryOut(request));
    }
  }

  /** Runs one control after the others (a DTMF string is sent whole before a hold, and so on). */
  private enqueueControl(run: () => Promise<void>): void {
    this.controlQueue = this.controlQueue.then(async () => {
      if (this.intent !== undefined || this.sipEnded !== undefined) return;
      await run().catch((error: unknown) => this.options.logger.warn({ error: String(error) }, 'control failed'));
    });
  }

  /** Carries out a control request and acknowledges it in the record. */
  private async carryOut(request: CallControlRequest): Promise<void> {
    let outcome: { ok: true } | { ok: false; error: string } = { ok: true };
    const control = request.control;
    try {
      // the record is open to any writer: what arrives is checked like any request
      parseCallControl(control);
      if (!this.connected) throw new RoomlineError('INVALID_REQUEST', 'the call is not connected');
      switch (control.type) {
        case 'dtmf':
          await this.sendDtmf(control.digits, control.carriage ?? this.dtmfCarriage, 'control');
          break;
        case 'hold':
          await this.options.bridge.send({ type: 'hold' });
          break;
        case 'resume':
          await this.options.bridge.send({ type: 'resume' });
          break;
        case 'transfer':
          await this.options.bridge.send({ type: 'transfer', to: control.to });
          break;
        default:
          assertNever(control, 'call control');
      }
    } catch (error) {
      outcome = { ok: false, error: RoomlineError.from(error).message.slice(0, 512) };
    }
    this.options.logger.info({ control: control.type, id: request.id, ok: outcome.ok }, 'control carried out');
    await this.enqueueWrite(WRITE_RETRY_MS, async () => {
      this.record = await this.options.store.update(
        this.callId,
        (current) => acknowledgeControl(current ?? this.record, request.id, outcome, new Date()),
        { known: this.record },
      );
    }).catch(() => undefined);
  }

  /** Sends digits on the SIP leg and records how many went (never which: they may be a PIN). */
  private async sendDtmf(digits: string, carriage: DtmfCarriage, source: 'request' | 'control'): Promise<void> {
    const pauses = digits.length - dtmfDigitCount(digits);
    // 2 s a pause, under 200 ms a digit (Janus answers each SIP INFO), and room to spare
    const timeoutMs = pauses * 2_000 + dtmfDigitCount(digits) * 500 + 10_000;
    const { sent } = await this.options.bridge.send({ type: 'send-dtmf', digits, carriage }, timeoutMs);
    this.options.logger.info({ count: sent, carriage, source }, 'DTMF sent');
    await this.event({ type: 'dtmf-sent', count: sent, carriage, source }, `${sent} DTMF digit${sent === 1 ? '' : 's'} sent (${carriage})`);
  }

  /** While connected, writes the quality summary into the record every `ms` (live figures for dashboards). */
  private sampleQualityEvery(ms: number): void {
    if (ms <= 0) return;
    const timer = setInterval(() => {
      if (this.intent !== undefined) return;
      void this.quality().then((quality) => {
        if (quality !== undefined && this.intent === undefined) void this.patch({ quality });
      });
    }, ms);
    this.timers.set('quality', timer);
  }

  private startEmptyRoomTimer(): void {
    const seconds = this.options.request.limits.emptyRoomTimeoutS;
    if (seconds === 0 || this.timers.has('empty-room')) return;
    this.startTimer('empty-room', seconds * 1000, () => this.end({ kind: 'room-empty' }));
  }

  private startTimer(name: string, ms: number, fire: () => void): void {
    this.stopTimer(name);
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        fire();
      }, ms),
    );
  }

  private stopTimer(name: string): void {
    const timer = this.timers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(name);
  }
}

/** The request's video size and rate, capped by the worker's configuration. */
export function capMedia(media: MediaOptions, caps: CallSessionOptions['videoCaps']): MediaOptions {
  return {
    ...media,
    width: Math.min(media.width, caps.width),
    height: Math.min(media.height, caps.height),
    fps: Math.min(media.fps, caps.fps),
  };
}
