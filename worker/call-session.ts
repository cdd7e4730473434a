import type { CallRecord } from '../contracts/call-record.js';
import type { DialRequest, MediaOptions } from '../contracts/dial-request.js';
import { RoomlineError } from '../contracts/errors.js';
import { CallControls } from './call-controls.js';
import { resolveEnding, type EndIntent, type SessionOutcome } from './call-ending.js';
import { CallLease } from './call-lease.js';
import { CallProgress } from './call-progress.js';
import { CallRecordWriter, SHUTDOWN_WRITE_RETRY_MS, WRITE_RETRY_MS } from './call-record-writer.js';
import type { CallSessionOptions } from './call-session-options.js';
import { CallSetup, sipLegOptions } from './call-setup.js';
import { routedRecord } from './inbound-call.js';
import { RunningCall } from './running-call.js';
import { SetupRecorder, preciseNow } from './setup-recorder.js';

/** How long a stopping worker (SIGTERM) waits for the hangup and the statistics, so its final record is written in time. */
const SHUTDOWN_HANGUP_MS = 3_500;
const SHUTDOWN_STATS_MS = 1_000;

/**
 * One call: drives the states (claimed → joining → dialing → ringing → connected → ended | failed) from the page's
 * events and its own timers, writes each change to the call record, watches the record for a hangup request, and
 * ends the call exactly once, for the first reason that comes. Its parts: the setup steps (call-setup.ts), the
 * running call's events and timers (running-call.ts), the controls (call-controls.ts), the record's writes
 * (call-record-writer.ts) and lease (call-lease.ts), and how the call ends (call-ending.ts), sharing what the session
 * knows of the call so far (call-progress.ts).
 */
export class CallSession {
  private readonly progress = new CallProgress();
  private readonly writer: CallRecordWriter;
  private readonly lease: CallLease;
  private readonly controls: CallControls;
  private readonly setup: CallSetup;
  private readonly running: RunningCall;
  private readonly media: MediaOptions;
  /** The call's setup trace: the session's steps, the page's and the SIP leg's, kept in the record with its writes. */
  private readonly trace: SetupRecorder;
  /** The call's request: a PIN line's becomes the PIN route's once the PIN is known. */
  private request: DialRequest & { callId: string };

  constructor(private readonly options: CallSessionOptions) {
    const { store, bridge, logger, workerId } = options;
    const progress = this.progress;
    this.request = options.request;
    this.media = capMedia(options.request.media, options.videoCaps);
    const trace = options.setup ?? new SetupRecorder(preciseNow(), options.inbound === undefined ? 'received' : 'incoming');
    this.trace = trace;
    this.writer = new CallRecordWriter({
      callId: this.callId,
      record: options.record,
      store,
      workerId,
      logger,
      observer: options.observer,
      setup: () => trace.trace,
    });
    this.controls = new CallControls({ bridge, logger, writer: this.writer, progress });
    this.lease = new CallLease({
      callId: this.callId,
      store,
      workerId,
      leaseMs: options.leaseMs,
      logger,
      watchIntervalMs: options.watchIntervalMs,
      lost: (record) => this.leaseLost(record),
      hangupRequested: () => this.end({ kind: 'hangup-requested' }),
      read: (record) => this.controls.take(record),
    });
    this.setup = new CallSetup(options, progress, this.media, trace);
    this.running = new RunningCall({
      bridge,
      logger,
      inbound: options.inbound !== undefined,
      media: this.media,
      qualityIntervalMs: options.qualityIntervalMs ?? 0,
      progress,
      writer: this.writer,
      controls: this.controls,
      request: () => this.request,
      end: (intent) => this.end(intent),
    });
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

  async run(): Promise<SessionOutcome> {
    const { logger } = this.options;
    const progress = this.progress;
    this.running.listen();
    const unfollow = this.trace.listen(this.options.bridge);
    const watcher = this.lease.start();
    try {
      const lookup = this.options.trunk;
      const trunk = lookup === undefined ? undefined : await this.trace.time('trunk.lookup', lookup);
      const { sip, dtmfCarriage } = sipLegOptions(this.request.sip, trunk);
      this.controls.carriage = dtmfCarriage;
      if (progress.intent !== undefined) return await this.finish();
      const inbound = this.options.inbound;
      if (inbound?.pin !== undefined) {
        // a PIN line: answered first, the PIN asked for, then the room the PIN opens joined
        void this.writer.step({ to: 'DIALING', detail: `answering the INVITE from ${inbound.callerNumber} for its PIN` });
        this.running.startRingBackstop();
        await this.setup.answer(sip);
        await Promise.race([progress.answered, progress.ended]);
        if (!progress.connected || progress.intent !== undefined) return await this.finish();
        const routed = await this.setup.collectPin(inbound.pin);
        if (progress.over) return await this.finish();
        if (routed === undefined) {
          this.end({ kind: 'failure', error: new RoomlineError('PIN_INVALID', `no valid PIN in ${inbound.pin.attempts ?? 3} attempts`) });
          await progress.ended;
          return await this.finish();
        }
        this.request = routed.request;
        void this.writer.update((base) => routedRecord(base, routed.request, routed.route, new Date()));
        logger.info({ room: routed.request.room.provider }, 'PIN accepted: joining its room');
        await this.joinRoom();
        await progress.ended;
        return await this.finish();
      }
      // state writes are queued in order; the call does not wait for them
      void this.writer.step({ to: 'JOINING', janusNode: this.options.janusNode, detail: `room ${this.request.room.provider}` });
      // a dialled call's SIP leg is prepared while the room joins; its INVITE waits for the join
      await this.joinRoom(inbound === undefined ? { trunk, sip } : undefined);
      if (progress.intent !== undefined) return await this.finish();

      if (inbound !== undefined) {
        void this.writer.step({ to: 'DIALING', detail: `answering the INVITE from ${inbound.callerNumber}` });
        // the answer is quick; the timer only guards against a page that never reports it
        this.running.startRingBackstop();
        await this.setup.answer(sip);
        await progress.ended;
        return await this.finish();
      }
      void this.writer.step({ to: 'DIALING', detail: `INVITE ${this.request.to}` });
      // the ring timeout counts from the INVITE (Janus's `calling`); until then a backstop in case it never comes
      this.running.startRingBackstop();
      await this.setup.dial(this.request, trunk, sip);
      await progress.ended;
      return await this.finish();
    } catch (error) {
      const failure = RoomlineError.from(error);
      logger.warn({ code: failure.code, error: failure.message, invite: progress.invite }, 'call setup failed');
      this.end({ kind: 'failure', error: failure });
      return await this.finish();
    } finally {
      unfollow();
      this.lease.stop();
      await watcher;
      this.running.stop();
      await this.setup.release();
    }
  }

  /**
   * Prepares the request's room and joins it (with `dial`, the dial's SIP leg is prepared meanwhile); with nobody else
   * there, the empty-room timer starts.
   */
  private async joinRoom(dial?: Parameters<CallSetup['joinRoom']>[1]): Promise<void> {
    const participants = await this.setup.joinRoom(this.request, dial);
    if (participants === 0) this.running.startEmptyRoomTimer();
  }

  /** The record says the call is not this worker's any more: unless it ended it itself, hang up at once. */
  private leaseLost(record: CallRecord | undefined): void {
    if (this.progress.intent !== undefined) return; // this worker is ending the call itself (its own final write)
    this.options.logger.error(
      { state: record?.state, owner: record?.workerId, failure: record?.failure?.code },
      'the call was taken over while this worker held it: hanging up at once',
    );
    this.end({ kind: 'lease-lost', record });
  }

  /**
   * Records the first reason to end the call and hangs up the SIP leg if the phone may be ringing: at once, or, while
   * the dial command is out, as soon as it is answered (a hangup then is a CANCEL, never a call left up).
   */
  private end(intent: EndIntent): void {
    const progress = this.progress;
    if (progress.intent !== undefined) return;
    progress.intent = intent;
    this.options.logger.info({ reason: intent.kind, invite: progress.invite }, 'ending the call');
    if (this.options.inbound !== undefined && progress.invite === 'not-sent' && progress.sipEnded === undefined) {
      // dial-in: the INVITE is still waiting for an answer: it gets a final response now
      void this.options.bridge
        .send({ type: 'inbound-decline', code: 480 })
        .catch((error: unknown) => this.options.logger.warn({ error: String(error) }, 'declining the INVITE failed'))
        .finally(() => progress.markEnded());
      return;
    }
    if (progress.invite === 'in-flight') {
      void progress.dialSettled.then(() => this.hangUp());
      return;
    }
    this.hangUp();
  }

  private hangUp(): void {
    const progress = this.progress;
    if (progress.invite === 'not-sent' || progress.sipEnded !== undefined) {
      progress.markEnded();
      return;
    }
    const timeoutMs = progress.intent?.kind === 'shutdown' ? SHUTDOWN_HANGUP_MS : 8_000;
    void this.options.bridge
      .send({ type: 'hangup' }, timeoutMs)
      .catch((error: unknown) => this.options.logger.warn({ error: String(error) }, 'hangup through the page failed'))
      .finally(() => progress.markEnded());
  }

  /** Writes the final state (or hands the call back for a retry) once the SIP leg is down. */
  private async finish(): Promise<SessionOutcome> {
    const progress = this.progress;
    await this.writer.settled();
    const intent = progress.intent;
    if (intent?.kind === 'lease-lost') {
      // someone else closed the call (WORKER_LOST): its record is final and not this worker's to write
      return { kind: 'final', record: intent.record ?? this.writer.record };
    }
    const shuttingDown = intent?.kind === 'shutdown';
    const quality = progress.invite === 'taken' ? await this.running.quality(shuttingDown ? SHUTDOWN_STATS_MS : 3_000) : undefined;
    const ending = resolveEnding({
      intent,
      sipEnded: progress.sipEnded,
      connected: progress.connected,
      transferredTo: progress.transferredTo,
      inbound: this.options.inbound !== undefined,
      mayHaveRung: progress.mayHaveRung,
      limits: this.request.limits,
    });
    if (ending.kind === 'retry') return { kind: 'retry', failure: ending.failure, record: this.writer.record };
    await this.writer.step(
      { ...ending.input, ...(quality === undefined ? {} : { quality }) },
      shuttingDown ? SHUTDOWN_WRITE_RETRY_MS : WRITE_RETRY_MS,
    );
    await this.writer.settled();
    return { kind: 'final', record: this.writer.record };
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
