import { RoomlineError } from '../../contracts/errors.js';
import type { SipLegOptions } from '../../contracts/page-rpc.js';
import type { DtmfCarriage, DtmfReceivedCarriage } from '../../contracts/telephony.js';
import { emit, errorMessage, log } from '../host.js';
import type { JanusSession } from '../janus/janus-client.js';
import { DtmfListener } from '../media/dtmf-listener.js';
import { NO_STEPS, type StepRecorder } from '../setup-steps.js';
import type { AnswerOptions, DialOptions, PreparedCall } from './sip-dial-options.js';
import { SipLeg } from './sip-leg.js';
import type { SipLegEvents } from './sip-leg-events.js';

/** What the call needs from the bot's media graph, for its first leg and for each leg a transfer brings. */
export interface SipCallMedia {
  /** The audio and video to send on a new leg (the room's mix or speaker, the composed picture). */
  outgoing(): Pick<DialOptions, 'audio' | 'video' | 'encoded'>;
  /**
   * A track from the SIP peer of the current leg (at once for the first leg, at its answer for a transfer's).
   * `digitsInAudio`: its DTMF digits are to be heard in its decoded audio, so it must be decoded even where its frames
   * are forwarded as they came.
   */
  incoming(track: MediaStreamTrack, digitsInAudio: boolean): void;
  /**
   * Reads the DTMF digits of the telephone-events `track` (the peer's audio) carries off its RTP, giving each to
   * `onDigit`; false where nothing taps the track's receiver.
   */
  readTelephoneEvents(track: MediaStreamTrack, onDigit: (digit: string) => void): boolean;
  /** The current leg changed (a transfer was followed): re-route the outgoing tracks onto its senders. */
  legChanged(): void;
  /** The first leg was answered (`video`: the peer took the video m-line). */
  answered(video: boolean): void;
  /** The call went on hold (by either side) or off hold. */
  held(held: boolean): void;
  /** A digit the SIP peer sent, however it came. */
  digit(digit: string, carriage: DtmfReceivedCarriage): void;
}

/** How long the bridge waits for the peer's final NOTIFY after asking it to transfer. */
const TRANSFER_NOTIFY_TIMEOUT_MS = 30_000;

/**
 * The SIP side of one bridged call, as the room and the worker see it: one logical call made of one SIP leg at a
 * time. A blind transfer from the peer (REFER) is followed by a second leg calling the new target as a helper of the
 * first (same identity and credentials); once it answers, it becomes the current leg and the old one is hung up, so
 * the room never notices. It reports the call's progress, end, hold changes, media updates, digits and transfers as
 * page events, and listens for DTMF in the peer's audio.
 */
export class SipCall {
  private current: SipLeg | undefined;
  /** Legs of this call that are no longer current: hung up, but their handles stay (a helper needs its master). */
  private readonly retired: SipLeg[] = [];
  private options: SipLegOptions | undefined;
  private dialOptions: Omit<DialOptions, 'audio' | 'video' | 'identity' | 'to' | 'referId'> | undefined;
  private following: { leg: SipLeg; target: string; previousEnded?: { code?: number; reason?: string } } | undefined;
  private held = false;
  private localTransfer: { target: string; timer: ReturnType<typeof setTimeout> } | undefined;
  private listener: DtmfListener | undefined;
  private ended = false;
  /** A leg prepared for the dial to come, and its prepared call. */
  private prepared: Promise<{ readonly leg: SipLeg; readonly call: PreparedCall }> | undefined;

  constructor(
    private readonly session: JanusSession,
    private readonly warmLeg: SipLeg,
    private readonly media: SipCallMedia,
  ) {
    warmLeg.bind(this.eventsFor(warmLeg));
  }

  /** The current leg (for statistics and the media graph's senders). */
  get leg(): SipLeg | undefined {
    return this.current;
  }

  /**
   * Prepares the call's SIP leg ahead of its INVITE (while the room joins): its handle, caller identity, peer
   * connection and offer (SipLeg.prepare). {@link dial} then only places it; {@link discardPrepared} throws it away.
   * A failure is the dial's, reported when it is placed.
   */
  prepare(options: Omit<DialOptions, 'audio' | 'video'>, steps: StepRecorder = NO_STEPS): void {
    this.discardPrepared();
    const start = performance.now();
    const prepared = (async () => {
      const leg = await this.legFor(options);
      return { leg, call: await leg.prepare({ ...options, ...this.media.outgoing() }, steps) };
    })();
    this.prepared = prepared;
    void prepared.then(
      () => steps.span('sip.prepare', start),
      (error: unknown) => steps.failed('sip.prepare', start, error),
    );
  }

  /** Throws away a prepared leg that will not be placed (the room join failed): nothing was sent for it. */
  discardPrepared(): void {
    const prepared = this.prepared;
    this.prepared = undefined;
    void prepared?.then(
      ({ leg }) => leg.unprepare(),
      () => undefined,
    );
  }

  /**
   * Places the call: the leg {@link prepare}d for it, or one prepared now. A trunk on TCP or TLS needs a SIP stack of
   * its own (Janus picks the transport when a handle first registers), so it gets a new handle; everything else uses
   * the handle warmed up at start.
   */
  async dial(options: Omit<DialOptions, 'audio' | 'video'>, sip: SipLegOptions, steps: StepRecorder = NO_STEPS): Promise<void> {
    this.options = sip;
    const { to: _to, identity: _identity, referId: _refer, ...rest } = options;
    this.dialOptions = rest;
    const ready = this.prepared;
    this.prepared = undefined;
    const { leg, call } =
      ready === undefined
        ? await (async () => {
            const fresh = await this.legFor(options);
            return { leg: fresh, call: await fresh.prepare({ ...options, ...this.media.outgoing() }, steps) };
          })()
        : await ready;
    this.current = leg;
    if (sip.detectDtmf) this.listener = new DtmfListener((digit) => this.media.digit(digit, 'audio'));
    await leg.place(call, steps);
  }

  /** The leg a dial goes out on: the warm handle, or a new one for a trunk on TCP or TLS. */
  private async legFor(options: Pick<DialOptions, 'identity'>): Promise<SipLeg> {
    const identity = options.identity;
    const transport = identity.kind === 'account' ? (identity.account.transport ?? 'udp') : 'udp';
    return transport === 'udp' ? this.warmLeg : await this.newLeg();
  }

  /** Dial-in: answers the incoming call pending on `leg` (a registered handle), which becomes the call's leg. */
  async answer(leg: SipLeg, options: Omit<AnswerOptions, 'audio' | 'video'>, sip: SipLegOptions): Promise<void> {
    this.options = sip;
    this.dialOptions = { ...options, headers: {} };
    leg.bind(this.eventsFor(leg));
    this.current = leg;
    if (sip.detectDtmf) this.listener = new DtmfListener((digit) => this.media.digit(digit, 'audio'));
    await leg.answer({ ...options, ...this.media.outgoing() });
  }

  async hangup(): Promise<boolean> {
    this.ended = true;
    await this.following?.leg.hangup().catch(() => undefined);
    return (await this.current?.hangup()) ?? false;
  }

  async sendDtmf(digits: string, carriage: DtmfCarriage): Promise<number> {
    return this.requireLeg().sendDtmf(digits, carriage);
  }

  async hold(): Promise<void> {
    await this.requireLeg().hold();
  }

  async resume(): Promise<void> {
    await this.requireLeg().resume();
  }

  /** Asks the peer to call `to` instead (blind transfer); once it reports success, the bridge hangs up. */
  async transfer(to: string): Promise<void> {
    const leg = this.requireLeg();
    if (this.localTransfer !== undefined) throw new RoomlineError('INVALID_REQUEST', 'a transfer is already under way');
    await leg.transfer(to);
    this.localTransfer = {
      target: to,
      timer: setTimeout(() => this.localTransferDone(leg, { code: 408, reason: 'no final NOTIFY from the SIP peer' }), TRANSFER_NOTIFY_TIMEOUT_MS),
    };
    emit({ type: 'sip-transfer', by: 'local', phase: 'requested', target: to });
  }

  /** Hangs up and releases every leg: helpers before the leg they depend on. */
  async close(): Promise<void> {
    this.ended = true;
    this.discardPrepared();
    if (this.localTransfer !== undefined) clearTimeout(this.localTransfer.timer);
    const legs = [this.following?.leg, this.current, ...this.retired.reverse(), this.warmLeg].filter(
      (leg, i, all): leg is SipLeg => leg !== undefined && all.indexOf(leg) === i,
    );
    for (const leg of legs) await leg.close().catch((error) => log.warn('closing a SIP leg failed', { error: errorMessage(error) }));
    await this.listener?.close();
  }

  private requireLeg(): SipLeg {
    if (this.current === undefined || !this.current.answered) {
      throw new RoomlineError('INVALID_REQUEST', 'the SIP leg is not answered');
    }
    return this.current;
  }

  private async newLeg(): Promise<SipLeg> {
    const leg = await SipLeg.attach(this.session);
    leg.bind(this.eventsFor(leg));
    return leg;
  }

  /** The events of one leg: the current leg's go to the worker; a transfer's new leg is watched until it answers. */
  private eventsFor(leg: SipLeg): SipLegEvents {
    const isCurrent = () => leg === this.current;
    const isFollowing = () => leg === this.following?.leg;
    let pendingTracks: MediaStreamTrack[] = [];
    return {
      progress: (event, detail) => {
        if (isCurrent()) {
          emit({ type: 'sip-progress', event, ...detail });
          if (event === 'accepted') this.media.answered(detail.video?.negotiated === true);
        } else if (isFollowing() && event === 'accepted') {
          void this.promote(leg, pendingTracks);
          pendingTracks = [];
        }
      },
      ended: (detail) => {
        if (isFollowing()) {
          void this.transferFailed(leg, detail);
        } else if (isCurrent()) {
          if (this.localTransfer !== undefined) clearTimeout(this.localTransfer.timer);
          if (this.following !== undefined) {
            // the transferor hung up before the new target answered: wait for the new leg
            this.following.previousEnded = detail;
            return;
          }
          emit({ type: 'sip-ended', ...detail });
        }
      },
      track: (track) => {
        if (isCurrent()) this.incoming(leg, track);
        else if (isFollowing()) pendingTracks.push(track);
      },
      mediaFailed: (reason) => {
        if (isCurrent()) emit({ type: 'media-failed', leg: 'sip', reason });
      },
      dtmf: (digit) => {
        if (isCurrent()) this.media.digit(digit, 'info');
      },
      holdChanged: (change) => {
        if (!isCurrent()) return;
        this.held = change.held;
        this.media.held(change.held);
        emit({ type: 'sip-hold', ...change });
      },
      mediaUpdated: (detail) => {
        if (isCurrent()) emit({ type: 'sip-media-updated', ...detail });
      },
      transferRequested: (request) => {
        if (isCurrent()) void this.onTransferRequested(leg, request);
      },
      transferNotified: (status) => {
        if (isCurrent() && status.code >= 200) this.localTransferDone(leg, status);
      },
    };
  }

  /**
   * A track of `leg` (the current leg). The peer's digits are read off its telephone-events where the leg negotiated
   * them and the encoded relay taps its audio, and listened for in the decoded audio everywhere else.
   */
  private incoming(leg: SipLeg, track: MediaStreamTrack): void {
    if (track.kind !== 'audio') {
      this.media.incoming(track, false);
      return;
    }
    const listener = this.listener;
    const events =
      listener !== undefined &&
      negotiatesTelephoneEvents(leg.peerConnection?.remoteDescription?.sdp) &&
      this.media.readTelephoneEvents(track, (digit) => {
        if (leg === this.current) this.media.digit(digit, 'rfc2833');
      });
    this.media.incoming(track, listener !== undefined && !events);
    if (listener === undefined) return;
    if (events) void listener.stop();
    else void listener.listen(track).catch((error) => log.warn('DTMF listener failed', { error: errorMessage(error) }));
  }

  /** A REFER from the peer: declined by policy, or followed by calling the target on a new leg. */
  private async onTransferRequested(leg: SipLeg, request: { referId: number; target: string }): Promise<void> {
    const options = this.options;
    const dialOptions = this.dialOptions;
    if (options?.transfer === 'decline' || this.following !== undefined || dialOptions === undefined) {
      await leg.declineTransfer(request.referId);
      emit({ type: 'sip-transfer', by: 'remote', phase: 'declined', target: request.target });
      return;
    }
    const identity = this.warmLeg.helperIdentity ?? this.current?.helperIdentity;
    if (identity === undefined) {
      await leg.declineTransfer(request.referId);
      emit({ type: 'sip-transfer', by: 'remote', phase: 'failed', target: request.target, reason: 'no registered identity to call as' });
      return;
    }
    emit({ type: 'sip-transfer', by: 'remote', phase: 'requested', target: request.target });
    try {
      const next = await this.newLeg();
      this.following = { leg: next, target: request.target };
      await next.dial({ ...dialOptions, ...this.media.outgoing(), to: request.target, identity, referId: request.referId });
    } catch (error) {
      if (this.following !== undefined) await this.transferFailed(this.following.leg, { reason: errorMessage(error) });
    }
  }

  /** The transfer's new leg answered: it becomes the current leg, the old one is hung up. */
  private async promote(leg: SipLeg, tracks: MediaStreamTrack[]): Promise<void> {
    const following = this.following;
    if (following === undefined || this.ended) return;
    const previous = this.current;
    this.following = undefined;
    this.current = leg;
    for (const track of tracks) this.incoming(leg, track);
    this.media.legChanged();
    emit({ type: 'sip-transfer', by: 'remote', phase: 'followed', target: following.target });
    if (this.held) {
      this.held = false;
      this.media.held(false);
      emit({ type: 'sip-hold', held: false, by: 'remote', change: 'resume' });
    }
    if (previous !== undefined) {
      this.retired.push(previous);
      await previous.hangup().catch(() => undefined);
      previous.releaseMedia();
    }
  }

  /** The transfer's new leg failed: the old leg goes on if it still can, otherwise the call ends. */
  private async transferFailed(leg: SipLeg, detail: { code?: number; reason?: string }): Promise<void> {
    const following = this.following;
    if (following === undefined || following.leg !== leg) return;
    this.following = undefined;
    this.retired.push(leg);
    leg.releaseMedia();
    emit({
      type: 'sip-transfer',
      by: 'remote',
      phase: 'failed',
      target: following.target,
      ...(detail.code === undefined ? {} : { code: detail.code }),
      ...(detail.reason === undefined ? {} : { reason: detail.reason.slice(0, 256) }),
    });
    if (following.previousEnded !== undefined) emit({ type: 'sip-ended', ...following.previousEnded, by: 'remote' });
  }

  /** The peer's final NOTIFY about the transfer the bridge asked for: on success the bridge's part is done. */
  private localTransferDone(leg: SipLeg, status: { code: number; reason?: string }): void {
    const transfer = this.localTransfer;
    if (transfer === undefined) return;
    clearTimeout(transfer.timer);
    this.localTransfer = undefined;
    const followed = status.code >= 200 && status.code < 300;
    emit({
      type: 'sip-transfer',
      by: 'local',
      phase: followed ? 'followed' : 'failed',
      target: transfer.target,
      code: status.code,
      ...(status.reason === undefined ? {} : { reason: status.reason.slice(0, 256) }),
    });
    // the transferee reached the target: the bridge (the transferor) leaves the call
    if (followed) void leg.hangup();
  }
}

/** Whether an SDP offers or accepts RFC 4733 telephone-events (an `a=rtpmap:<pt> telephone-event/<rate>` line). */
export function negotiatesTelephoneEvents(sdp: string | undefined): boolean {
  return sdp !== undefined && /^a=rtpmap:\d+ telephone-event\//im.test(sdp);
}
