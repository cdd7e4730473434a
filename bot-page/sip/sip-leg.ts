import { RoomlineError, assertNever } from '../../contracts/errors.js';
import type { SipAccount } from '../../contracts/page-rpc.js';
import type { DtmfCarriage } from '../../contracts/telephony.js';
import { errorMessage, log } from '../host.js';
import { NO_STEPS, type StepRecorder } from '../setup-steps.js';
import type { JanusJsep, JanusSession } from '../janus/janus-client.js';
import { JanusError } from '../janus/janus-error.js';
import { SipPluginHandle, type SipPluginEvent } from '../janus/sip-plugin.js';
import { digitCount, infoDigit, sendDtmfInfo, sendDtmfTones } from './sip-dtmf.js';
import { sipFragStatus } from './sip-frag.js';
import { registerIdentity, type SipIdentity } from './sip-identity.js';
import { IncomingCalls } from './incoming-calls.js';
import { IGNORE_SIP_LEG_EVENTS, type IncomingCallEvents, type SipLegEvents } from './sip-leg-events.js';
import { SipLegMedia, type SipLegMediaOptions } from './sip-leg-media.js';
import type { AnswerOptions, DialOptions, PreparedCall } from './sip-dial-options.js';

/**
 * One call through the Janus SIP plugin, on one plugin handle: registration (guest, trunk account, or helper of
 * another leg), the INVITE, early media, answer, re-INVITEs in both directions (hold, resume, codec changes), DTMF
 * both ways, and transfers. The plugin's requests and events are the SIP plugin handle's (janus/sip-plugin.ts); the
 * leg's peer connection is its SipLegMedia.
 */
export class SipLeg {
  private media: SipLegMedia | undefined;
  private phase: 'idle' | 'calling' | 'answered' | 'ended' = 'idle';
  private hangupSent = false;
  private endedWaiters: (() => void)[] = [];
  private heldLocally = false;
  private heldRemotely = false;
  private audioCodec: string | undefined;
  /** The Janus SIP session id other legs use to call as this leg's identity (its `master_id`). */
  private masterIdValue: number | undefined;
  private identityUri: string | undefined;
  private events: SipLegEvents = IGNORE_SIP_LEG_EVENTS;
  /** Dial-in: the INVITEs to this (registered) handle, and the one waiting for `answer` or `decline`. */
  private readonly incoming: IncomingCalls;

  private constructor(private readonly sip: SipPluginHandle) {
    this.incoming = new IncomingCalls(sip);
    sip.listen((event) => {
      void this.onSipEvent(event).catch((error) => log.error('SIP event handling failed', { error: errorMessage(error) }));
    });
  }

  /** Attaches a new handle of the Janus SIP plugin; its events go nowhere until `bind`. */
  static async attach(session: JanusSession): Promise<SipLeg> {
    return new SipLeg(await SipPluginHandle.attach(session));
  }

  /** Where this leg's events go from now on. */
  bind(events: SipLegEvents): void {
    this.events = events;
  }

  /**
   * Registers a guest identity ahead of any call: the first registration of a handle makes Janus start its SIP stack
   * for it (about 100 ms), which then is not on the call's path. The call registers its own caller identity again.
   */
  async warmUp(identity: string): Promise<void> {
    await this.sip.register({ kind: 'guest', username: identity }, 15_000);
  }

  get peerConnection(): RTCPeerConnection | undefined {
    return this.media?.pc;
  }

  get videoSender(): RTCRtpSender | undefined {
    return this.media?.videoSender;
  }

  /** The sender of the audio to the SIP peer. */
  get audioSender(): RTCRtpSender | undefined {
    return this.media?.audioSender;
  }

  /** Whether the call is up (answered and not ended). */
  get answered(): boolean {
    return this.phase === 'answered';
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  /** What another leg needs to call as this leg's identity (a transfer's new call), once this leg registered. */
  get helperIdentity(): SipIdentity | undefined {
    return this.masterIdValue === undefined || this.identityUri === undefined
      ? undefined
      : { kind: 'helper', masterId: this.masterIdValue, uri: this.identityUri };
  }

  /** Places the call: {@link prepare}, then {@link place}. Resolves when Janus has taken the INVITE; progress arrives as events. */
  async dial(options: DialOptions, steps: StepRecorder = NO_STEPS): Promise<void> {
    await this.place(await this.prepare(options, steps), steps);
  }

  /**
   * Everything of the call that Janus does not pass on to the SIP peer: the caller identity registered (a guest's
   * sends nothing on the wire; a trunk account with `register` sends its REGISTER), the peer connection with its
   * transceivers, the offer set as the local description (ICE gathering starts; candidates are held until the call is
   * placed). {@link unprepare} throws it all away; {@link place} sends the INVITE.
   */
  async prepare(options: DialOptions, steps: StepRecorder = NO_STEPS): Promise<PreparedCall> {
    if (this.phase !== 'idle' || this.media !== undefined) throw new Error('this SIP leg has already dialed');
    await steps.time('sip.register', () => this.register(options.identity));
    const offerStart = performance.now();
    const media = this.newMedia(options, { holdCandidates: true });
    const gathering = media.gathered();
    const offer = await media.offer();
    const offered = performance.now();
    steps.span('sip.offer', offerStart, offered);
    void gathering.then((candidates) => steps.span('sip.ice', offered, performance.now(), `${candidates} candidates`));
    return { options, offer };
  }

  /** Sends the prepared call's INVITE: Janus's `call` with the offer, and the candidates gathered so far in it. */
  async place(prepared: PreparedCall, steps: StepRecorder = NO_STEPS): Promise<void> {
    if (this.phase !== 'idle') throw new Error('this SIP leg has already dialed');
    const { options } = prepared;
    this.phase = 'calling';
    // the local description now carries every candidate gathered so far; the ones after it are trickled
    const released = this.media?.releaseCandidates() ?? { offer: prepared.offer, ended: false };
    const start = performance.now();
    try {
      const calling = this.sip.call({ uri: options.to, headers: options.headers, srtp: options.srtp ?? 'off', referId: options.referId }, released.offer);
      // the call request is on its way (sent at once): the end of the candidates follows it
      if (released.ended) this.sip.trickle(null);
      await calling;
    } catch (error) {
      steps.failed('sip.call', start, error);
      // Retried only if Janus never saw the request (the connection was already closed) or refused it: otherwise the
      // INVITE may be out and the phone ringing, and a retry would ring it twice.
      const notSent = error instanceof JanusError && (!error.sent || error.code !== undefined);
      throw new RoomlineError('JANUS_UNAVAILABLE', `Janus did not take the call: ${errorMessage(error)}`, {
        retryable: notSent,
      });
    }
    steps.span('sip.call', start);
  }

  /** Throws a prepared call away before its INVITE: the peer connection closed, nothing sent to Janus for it. */
  unprepare(): void {
    if (this.phase !== 'idle') return;
    this.media?.pc.close();
    this.media = undefined;
  }

  /** The leg's one peer connection, for a dialled call or an answered one. */
  private newMedia(options: SipLegMediaOptions, how: { holdCandidates: boolean } = { holdCandidates: false }): SipLegMedia {
    this.media = new SipLegMedia(
      options,
      {
        candidate: (candidate) => this.sip.trickle(candidate),
        track: (track) => this.events.track(track),
        failed: (reason) => this.events.mediaFailed(reason),
      },
      how,
    );
    return this.media;
  }

  /** Registers the caller identity (see registerIdentity); the identity helpers of this leg then call as. */
  private async register(identity: SipIdentity, incomingHeaderPrefixes?: readonly string[]): Promise<void> {
    this.identityUri = identity.kind === 'account' ? identity.account.username : identity.uri;
    const masterId = await registerIdentity(this.sip, identity, incomingHeaderPrefixes);
    if (masterId !== undefined) this.masterIdValue = masterId;
  }

  /**
   * Dial-in: registers this handle as a contact of an inbound address at a registrar (a REGISTER that must succeed),
   * so that INVITEs the registrar forks to it arrive as `incoming` calls. Only the headers with `headerPrefixes` are
   * reported with them.
   */
  async registerInbound(account: SipAccount, headerPrefixes: readonly string[], events: IncomingCallEvents): Promise<void> {
    this.incoming.listen(events);
    await this.register({ kind: 'account', account: { ...account, register: true } }, headerPrefixes);
  }

  /** Removes the registration; resolves true once the registrar confirmed it (false after `timeoutMs`). */
  async unregister(timeoutMs = 5_000): Promise<boolean> {
    try {
      return await this.sip.unregister(timeoutMs);
    } catch (error) {
      log.warn('unregistering failed', { error: errorMessage(error) });
      return false;
    }
  }

  /** Refuses the pending incoming call with `code`; false when there was none (it went away meanwhile). */
  async decline(code: number): Promise<boolean> {
    return this.phase === 'idle' ? this.incoming.decline(code) : false;
  }

  /**
   * Answers the pending incoming call: the browser answers Janus's offer with the bridge's media and Janus sends the
   * 200 OK. Janus then reports `accepted`, and the leg goes on as a dialled one would (re-INVITEs, DTMF, BYE).
   */
  async answer(options: AnswerOptions): Promise<void> {
    const incoming = this.incoming.waiting;
    if (this.phase !== 'idle' || incoming === undefined) throw new RoomlineError('INTERNAL', 'no incoming call to answer');
    if (incoming.offer === undefined) throw new RoomlineError('MEDIA_FAILED', 'an INVITE without an SDP offer cannot be answered');
    this.phase = 'calling';
    const answer = await this.newMedia(options).answer(incoming.offer);
    try {
      await this.sip.accept(options.srtp ?? 'off', answer);
    } catch (error) {
      throw new RoomlineError('JANUS_UNAVAILABLE', `Janus did not take the answer: ${errorMessage(error)}`);
    }
    this.incoming.answered();
  }

  /**
   * Sends DTMF digits ("," pauses 2 s) on the answered call: as RFC 2833 telephone-events on the audio stream
   * (RTCDTMFSender), or one SIP INFO (application/dtmf-relay) per digit. Resolves once the last one was sent.
   */
  async sendDtmf(digits: string, carriage: DtmfCarriage): Promise<number> {
    if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'DTMF needs an answered call');
    const answered = () => this.phase === 'answered';
    switch (carriage) {
      case 'rfc2833':
        await sendDtmfTones(this.media?.audioSender?.dtmf, digits, answered);
        break;
      case 'info':
        await sendDtmfInfo(digits, (digit, durationMs) => this.sip.dtmfInfo(digit, durationMs), answered);
        break;
    }
    return digitCount(digits);
  }

  /**
   * Puts the call on hold: a re-INVITE with the media `inactive`, so neither side hears the other (Janus drops the
   * media both ways while held; the room goes on unheard by the peer).
   */
  async hold(): Promise<void> {
    if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'hold needs an answered call');
    if (this.heldLocally) return;
    await this.sip.hold('inactive');
    this.heldLocally = true;
    this.events.holdChanged({ held: true, by: 'local', change: 'hold' });
  }

  /** Takes the call off hold: a re-INVITE restoring the media as it was. */
  async resume(): Promise<void> {
    if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'resume needs an answered call');
    if (!this.heldLocally) return;
    await this.sip.unhold();
    this.heldLocally = false;
    this.events.holdChanged({ held: this.heldRemotely, by: 'local', change: 'resume' });
  }

  /** Asks the peer to call `to` instead (blind transfer: REFER); the peer's NOTIFYs arrive as `transferNotified`. */
  async transfer(to: string): Promise<void> {
    if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'transfer needs an answered call');
    await this.sip.transfer(to);
  }

  /** Refuses a transfer the peer asked for (NOTIFY 603). */
  async declineTransfer(referId: number): Promise<void> {
    await this.sip.decline(603, referId).catch((error: unknown) =>
      log.warn('declining a transfer failed', { error: errorMessage(error) }),
    );
  }

  /**
   * Ends the call: BYE once answered, CANCEL while ringing. Resolves when Janus reports the end, or after
   * `timeoutMs` (Janus does not answer a hangup sent in the wrong state).
   */
  async hangup(timeoutMs = 3_000): Promise<boolean> {
    if (this.phase === 'idle' || this.phase === 'ended') return false;
    this.hangupSent = true;
    const ended = new Promise<void>((resolve) => this.endedWaiters.push(resolve));
    await this.sip.hangup().catch(() => undefined);
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    // finish() is idempotent: a no-op when Janus confirmed the hangup in time
    this.finish({ reason: 'hangup not confirmed by Janus', by: 'local' });
    return true;
  }

  async close(): Promise<void> {
    if (this.phase === 'calling' || this.phase === 'answered') await this.hangup();
    this.releaseMedia();
    await this.sip.detach();
  }

  /** Closes the leg's PeerConnection but keeps its handle (a helper leg needs the handle of its master). */
  releaseMedia(): void {
    this.media?.pc.close();
  }

  private async onSipEvent(event: SipPluginEvent): Promise<void> {
    switch (event.type) {
      case 'error':
        log.warn('SIP plugin error', { code: event.code, error: event.error });
        if (this.phase === 'calling') this.finish({ reason: event.error ?? 'SIP plugin error', by: 'remote' });
        return;
      case 'calling':
      case 'ringing':
      case 'proceeding': {
        const { code, reason, sipCallId } = event;
        this.events.progress(event.type, { ...(code === undefined ? {} : { code }), ...(reason ? { reason } : {}), ...(sipCallId ? { sipCallId } : {}) });
        return;
      }
      case 'progress':
        if (event.jsep !== undefined) await this.media?.applyAnswer(event.jsep);
        this.audioCodec = this.media?.negotiatedAudioCodec();
        this.events.progress('progress', { code: 183, ...(this.audioCodec === undefined ? {} : { audioCodec: this.audioCodec }) });
        return;
      case 'accepted': {
        if (event.jsep !== undefined) await this.media?.applyAnswer(event.jsep);
        this.phase = 'answered';
        this.audioCodec = this.media?.negotiatedAudioCodec();
        const video = this.media?.hasVideo === true ? this.media.videoOutcome() : undefined;
        this.events.progress('accepted', {
          code: 200,
          ...(this.audioCodec === undefined ? {} : { audioCodec: this.audioCodec }),
          ...(video === undefined ? {} : { video }),
        });
        return;
      }
      case 'updating-call':
        await this.answerReinvite(event.jsep);
        return;
      case 'info': {
        const digit = infoDigit(event.contentType, event.content);
        if (digit === undefined) log.debug('SIP INFO without a digit ignored', { type: event.contentType.toLowerCase() });
        else this.events.dtmf(digit);
        return;
      }
      case 'transfer':
        this.events.transferRequested({ referId: event.referId, target: event.target });
        return;
      case 'refer-notify': {
        const status = sipFragStatus(event.content);
        if (status !== undefined) this.events.transferNotified(status);
        return;
      }
      case 'incoming-call':
        this.incoming.arrived(event, this.phase);
        return;
      case 'missed-call':
        log.debug('an INVITE arrived while this handle was busy: Janus answered 486');
        return;
      case 'hangup': {
        // a hangup while idle is an incoming call that ended before it was answered
        if (this.phase === 'idle') this.incoming.ended();
        else this.finish({ ...(event.code === undefined ? {} : { code: event.code }), ...(event.reason ? { reason: event.reason } : {}), by: this.hangupSent ? 'local' : 'remote' });
        return;
      }
      case 'other':
        log.debug('SIP event', { event: event.event });
        return;
      case 'media-closed':
        log.debug('SIP leg PeerConnection closed by Janus', { reason: event.reason });
        return;
      case 'detached':
        this.finish({ reason: 'the Janus session is gone', by: 'remote' });
        return;
      default:
        return assertNever(event, 'SIP plugin event');
    }
  }

  /**
   * A re-INVITE from the peer: hold (its audio `sendonly` or `inactive`), resume, or new media (another codec or
   * address, which Janus follows on the SIP side). Answered with the media the bridge has: the WebRTC answer keeps
   * the peer's direction and codec, so the leg follows it.
   */
  private async answerReinvite(jsep: JanusJsep | undefined): Promise<void> {
    const media = this.media;
    if (media === undefined || jsep === undefined || jsep.type !== 'offer') return;
    const { answer, held } = await media.answerUpdate(jsep);
    try {
      await this.sip.update(answer);
    } catch (error) {
      log.warn('answering a re-INVITE failed', { error: errorMessage(error) });
      return;
    }
    if (held !== this.heldRemotely) {
      this.heldRemotely = held;
      this.events.holdChanged({ held: held || this.heldLocally, by: 'remote', change: held ? 'hold' : 'resume' });
    }
    const codec = media.negotiatedAudioCodec();
    if (codec !== undefined && codec !== this.audioCodec) {
      this.audioCodec = codec;
      this.events.mediaUpdated({ audioCodec: codec });
    }
  }

  private finish(detail: { code?: number; reason?: string; by: 'remote' | 'local' }): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    // the PeerConnection stays open until close(): its statistics are the call's quality summary
    this.events.ended(detail);
    for (const waiter of this.endedWaiters.splice(0)) waiter();
  }
}
