import type { CallEvent, QualitySummary } from '../contracts/call-record.js';
import type { DialRequest, MediaOptions } from '../contracts/dial-request.js';
import { RoomlineError, assertNever } from '../contracts/errors.js';
import type { PageEventOf } from '../contracts/page-rpc.js';
import { describeSipCode } from '../contracts/sip-codes.js';
import type { CallControls } from './call-controls.js';
import type { EndIntent } from './call-ending.js';
import type { CallProgress } from './call-progress.js';
import type { CallRecordWriter } from './call-record-writer.js';
import type { CallPage } from './call-session-options.js';
import type { Logger } from './logger.js';

/** Seconds the ring timer allows, beyond the ring timeout, for Janus to report the INVITE sent. */
const RING_BACKSTOP_S = 10;

export interface RunningCallOptions {
  readonly bridge: CallPage;
  readonly logger: Logger;
  /** A dial-in call: its caller may hang up before the answer. */
  readonly inbound: boolean;
  /** The request's media, capped by the worker. */
  readonly media: MediaOptions;
  /** How often a connected call's quality summary is written into its record, in ms; 0 = only at the end. */
  readonly qualityIntervalMs: number;
  readonly progress: CallProgress;
  readonly writer: CallRecordWriter;
  readonly controls: CallControls;
  /** The call's request as it is now (a PIN line's becomes its route's once the PIN is known). */
  readonly request: () => DialRequest;
  /** Ends the call for this reason (the first reason wins). */
  readonly end: (intent: EndIntent) => void;
}

/**
 * The running call: what the session does on each event of the bot page (the SIP leg's progress and end, the room's
 * participants, digits, hold, re-INVITEs, transfers, lost sessions and failed media), its timers (ring, maximum
 * duration, empty room) and its live quality samples.
 */
export class RunningCall {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribers: (() => void)[] = [];

  constructor(private readonly options: RunningCallOptions) {}

  /** Starts listening to the page's events. */
  listen(): void {
    const { bridge, logger, progress, writer, end } = this.options;
    this.unsubscribers.push(
      bridge.on('sip-progress', (event) => this.onSipProgress(event)),
      bridge.on('sip-ended', (event) => {
        logger.info({ code: event.code, reason: event.reason, by: event.by }, 'SIP leg ended');
        progress.sipEnded = event;
        progress.markEnded();
      }),
      bridge.on('sip-incoming-gone', () => {
        // dial-in: the caller hung up (CANCEL) before the bridge answered
        if (!this.options.inbound || progress.connected || progress.sipEnded !== undefined) return;
        logger.info('the caller hung up before the answer');
        progress.sipEnded = { type: 'sip-ended', code: 487, reason: 'the caller hung up before the answer', by: 'remote' };
        progress.markEnded();
      }),
      bridge.on('room-participant', (event) => {
        logger.info({ change: event.change, count: event.count }, 'room participant');
        if (event.count === 0) this.startEmptyRoomTimer();
        else this.stopTimer('empty-room');
      }),
      bridge.on('room-lost', (event) => end({ kind: 'room-lost', reason: event.reason })),
      bridge.on('janus-lost', (event) =>
        end({ kind: 'failure', error: new RoomlineError('JANUS_UNAVAILABLE', `Janus session lost: ${event.reason}`) }),
      ),
      bridge.on('media-failed', (event) =>
        end({ kind: 'failure', error: new RoomlineError('MEDIA_FAILED', `${event.leg} leg: ${event.reason}`) }),
      ),
      bridge.on('media-flowing', (event) => logger.info({ leg: event.leg, kind: event.kind, direction: event.direction }, 'media flowing')),
      bridge.on('sip-dtmf', (event) => {
        // the digit goes to the record, not the log (it may be a PIN)
        logger.info({ carriage: event.carriage }, 'digit received');
        // a PIN line's PIN goes nowhere
        if (progress.collectingPin) return;
        void writer.event({ type: 'dtmf-received', digit: event.digit, carriage: event.carriage }, `DTMF ${event.digit} (${event.carriage})`);
      }),
      bridge.on('sip-hold', (event) => this.onHold(event)),
      bridge.on('sip-media-updated', (event) => {
        logger.info({ audioCodec: event.audioCodec }, 'SIP peer changed the media');
        if (progress.callMedia !== undefined && event.audioCodec !== undefined) {
          progress.callMedia = { ...progress.callMedia, sipAudioCodec: event.audioCodec };
        }
        void writer.event(
          { type: 'media-updated', ...(event.audioCodec === undefined ? {} : { audioCodec: event.audioCodec }) },
          `re-INVITE followed${event.audioCodec === undefined ? '' : ` (audio ${event.audioCodec})`}`,
          progress.callMedia === undefined ? {} : { media: progress.callMedia },
        );
      }),
      bridge.on('sip-transfer', (event) => {
        logger.info({ by: event.by, phase: event.phase, code: event.code }, 'transfer');
        if (event.by === 'local' && event.phase === 'followed') progress.transferredTo = event.target;
        const words = `${event.by === 'remote' ? 'the SIP peer asked to transfer' : 'transfer'} to ${event.target}: ${event.phase}`;
        void writer.event(
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
    bridge.onUnresponsive((reason) => end({ kind: 'failure', error: new RoomlineError('BROWSER_FAILED', reason) }));
  }

  /** Stops listening and every timer. */
  stop(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    for (const timer of this.timers.values()) clearTimeout(timer);
  }

  /** Starts the ring timer until the INVITE is reported sent: the ring timeout and a backstop in case it never comes. */
  startRingBackstop(): void {
    const { end } = this.options;
    this.startTimer('ring', (this.options.request().limits.ringTimeoutS + RING_BACKSTOP_S) * 1000, () => end({ kind: 'ring-timeout' }));
  }

  /** With nobody else in the room, the call ends after the request's empty-room timeout (unless someone comes). */
  startEmptyRoomTimer(): void {
    const seconds = this.options.request().limits.emptyRoomTimeoutS;
    if (seconds === 0 || this.timers.has('empty-room')) return;
    this.startTimer('empty-room', seconds * 1000, () => this.options.end({ kind: 'room-empty' }));
  }

  /** The call's quality summary from the page; none when the page does not give it in time. */
  async quality(timeoutMs = 3_000): Promise<QualitySummary | undefined> {
    try {
      return await this.options.bridge.send({ type: 'get-stats' }, timeoutMs);
    } catch (error) {
      this.options.logger.warn({ error: String(error) }, 'no quality statistics at the end of the call');
      return undefined;
    }
  }

  private onSipProgress(event: PageEventOf<'sip-progress'>): void {
    const { progress, writer, end } = this.options;
    const request = this.options.request();
    const now = new Date();
    const sip = {
      ...(event.code === undefined ? {} : { lastCode: event.code, lastReason: event.reason ?? describeSipCode(event.code) }),
      ...(event.sipCallId === undefined ? {} : { sipCallId: event.sipCallId }),
    };
    switch (event.event) {
      case 'calling':
        // early media (183) or not, the callee has this long from the INVITE
        if (!progress.connected) {
          this.startTimer('ring', request.limits.ringTimeoutS * 1000, () => end({ kind: 'ring-timeout' }));
        }
        void writer.patch({ sip, timings: { inviteAt: now.toISOString() } });
        break;
      case 'ringing':
      case 'proceeding':
      case 'progress': {
        const code = event.code ?? (event.event === 'progress' ? 183 : 180);
        // the state is decided here, synchronously: writes are queued, so the record may lag behind the events
        if (!progress.ringing && !progress.connected && code >= 180) {
          progress.ringing = true;
          void writer.step({ to: 'RINGING', sipCode: code, detail: `${code} ${describeSipCode(code)}`, sip });
        } else {
          void writer.patch({ sip });
        }
        break;
      }
      case 'accepted': {
        progress.connected = true;
        progress.markAnswered();
        this.stopTimer('ring');
        this.startTimer('max-duration', request.limits.maxDurationS * 1000, () => end({ kind: 'max-duration' }));
        const media = this.options.media;
        progress.callMedia = {
          audio: media.audio,
          video: media.video === 'off' ? 'off' : event.video?.negotiated === true ? 'negotiated' : 'declined',
          ...(event.video?.codec === undefined ? {} : { sipVideoCodec: event.video.codec }),
          ...(event.audioCodec === undefined ? {} : { sipAudioCodec: event.audioCodec }),
        };
        void writer.step({
          to: 'CONNECTED',
          sipCode: 200,
          detail: event.video?.negotiated === false ? '200 OK (audio only: the SIP peer declined video)' : '200 OK',
          sip,
          timings: { answeredAt: now.toISOString() },
          media: progress.callMedia,
        });
        this.sampleQualityEvery(this.options.qualityIntervalMs);
        const digits = request.sip.dtmfAfterAnswer;
        if (digits !== undefined) this.options.controls.sendAfterAnswer(digits);
        break;
      }
      default:
        assertNever(event.event, 'SIP progress event');
    }
  }

  /** Hold or resume by either side: `ON_HOLD` while either holds the call, `CONNECTED` again when neither does. */
  private onHold(event: PageEventOf<'sip-hold'>): void {
    const { progress, writer, logger } = this.options;
    logger.info({ by: event.by, change: event.change, held: event.held }, 'hold changed');
    const entry: CallEvent = { type: event.change, by: event.by };
    const detail = `${event.change === 'hold' ? 'put on hold' : 'taken off hold'} by the ${event.by === 'remote' ? 'SIP peer' : 'caller'}`;
    if (!progress.connected || progress.intent !== undefined) return;
    if (event.held !== progress.held) {
      progress.held = event.held;
      void writer.step({ to: event.held ? 'ON_HOLD' : 'CONNECTED', event: entry, detail });
    } else {
      void writer.event(entry, detail);
    }
  }

  /** While connected, writes the quality summary into the record every `ms` (live figures for dashboards). */
  private sampleQualityEvery(ms: number): void {
    if (ms <= 0) return;
    const { progress, writer } = this.options;
    const timer = setInterval(() => {
      if (progress.intent !== undefined) return;
      void this.quality().then((quality) => {
        if (quality !== undefined && progress.intent === undefined) void writer.patch({ quality });
      });
    }, ms);
    this.timers.set('quality', timer);
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
