import { RoomlineError } from '../../contracts/errors.js';
import type { SIP_PROGRESS_EVENTS, SipAccount } from '../../contracts/page-rpc.js';
import type { DtmfCarriage, SipAudioCodec, SipSide, SrtpMode } from '../../contracts/telephony.js';
import { JanusError, type JanusHandle, type JanusJsep, type JanusSession } from '../janus/janus-client.js';
import { errorMessage, log } from '../host.js';
import type { EncodedTaps } from '../media/encoded-relay.js';
import { bridgePeerConnection } from '../media/peer-connection.js';

export type SipProgressEvent = (typeof SIP_PROGRESS_EVENTS)[number];

export interface SipLegEvents {
  progress(
    event: SipProgressEvent,
    detail: {
      code?: number;
      reason?: string;
      sipCallId?: string;
      audioCodec?: string;
      video?: { negotiated: boolean; codec?: string };
    },
  ): void;
  /** The SIP leg ended: `by` is `remote` for failure responses and BYEs, `local` after our own hangup. */
  ended(detail: { code?: number; reason?: string; by: 'remote' | 'local' }): void;
  /** A remote track from the SIP peer. */
  track(track: MediaStreamTrack): void;
  /** ICE/DTLS failed on the SIP leg. */
  mediaFailed(reason: string): void;
  /** The SIP peer sent a digit by SIP INFO. */
  dtmf(digit: string): void;
  /** One side held or resumed the call; `held` is whether either side holds it now. */
  holdChanged(change: { held: boolean; by: SipSide; change: 'hold' | 'resume' }): void;
  /** The peer changed the media with a re-INVITE (e.g. another codec) and the leg followed. */
  mediaUpdated(detail: { audioCodec?: string }): void;
  /** The peer asks the bridge to call someone else (REFER); answer with `declineTransfer` or a new leg's `dial`. */
  transferRequested(request: { referId: number; target: string }): void;
  /** How the transfer the bridge asked for goes, from the peer's NOTIFYs (a SIP status line each). */
  transferNotified(status: { code: number; reason?: string }): void;
}

/** An INVITE that reached a registered handle (dial-in). */
export interface IncomingCall {
  readonly sipCallId: string;
  readonly from: string;
  readonly displayName?: string;
  readonly to: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Where a registered handle reports incoming calls. */
export interface IncomingCallEvents {
  incoming(call: IncomingCall): void;
  /** The pending incoming call went away before an answer (cancelled, or declined). */
  gone(sipCallId: string | undefined): void;
}

/** Who the SIP leg calls as. */
export type SipIdentity =
  /** A guest identity: no REGISTER, no credentials; every request through `outboundProxy` when given. */
  | { readonly kind: 'guest'; readonly uri: string; readonly display?: string; readonly outboundProxy?: string }
  /** A trunk account: its credentials answer 401/407 challenges; with `register` a REGISTER goes first. */
  | { readonly kind: 'account'; readonly account: SipAccount; readonly display?: string }
  /** A second call of an identity registered on another leg (Janus SIP helper): same identity, credentials, transport. */
  | { readonly kind: 'helper'; readonly masterId: number; readonly uri: string };

export interface DialOptions {
  readonly to: string;
  readonly identity: SipIdentity;
  readonly headers: Readonly<Record<string, string>>;
  readonly iceServers: RTCIceServer[];
  /** SDES-SRTP towards the SIP peer. @default "off" */
  readonly srtp?: SrtpMode;
  /** Offer only these audio codecs, in this order (telephone-event always stays). @default all the browser has */
  readonly audioCodecs?: readonly SipAudioCodec[];
  /** This call follows a REFER (Janus's `refer_id`): the transferor is told how it goes. */
  readonly referId?: number;
  /**
   * Keep the receive jitter buffer as small as the network allows: right for a bridge, whose far ends keep their own
   * buffers. @default false (what a normal endpoint does)
   */
  readonly lowLatency?: boolean;
  /** Tracks to send to the SIP peer; `video` undefined means no video m-line at all. */
  readonly audio: MediaStreamTrack | undefined;
  /** The encoded relay's taps on this leg's audio (forwarding frames between the legs without re-encoding). */
  readonly encoded?: EncodedTaps;
  readonly video:
    | {
        readonly track: MediaStreamTrack | undefined;
        readonly direction: RTCRtpTransceiverDirection;
        readonly codecs: readonly string[];
        readonly maxFramerate: number;
      }
    | undefined;
}

/** What answering an incoming call needs: a dialled call's options without a target, identity or headers. */
export type AnswerOptions = Omit<DialOptions, 'to' | 'identity' | 'headers' | 'referId'>;

/** RTCDTMFSender timing: 100 ms tones, 70 ms gaps (phones send 40-100 ms). */
const DTMF_TONE_MS = 100;
const DTMF_GAP_MS = 70;
/** A "," in a digit string: a 2-second pause, as RTCDTMFSender defines it. */
const DTMF_PAUSE_MS = 2_000;
/** How long digits wait, right after the answer, for the audio sender to take telephone-events. */
const DTMF_READY_TIMEOUT_MS = 5_000;
/** How long the SIP plugin may take to answer a guest `register` request (one that sends nothing on the wire). */
const REGISTER_TIMEOUT_MS = 5_000;

/**
 * One call through the Janus SIP plugin, on one plugin handle: registration (guest, trunk account, or helper of
 * another leg), the INVITE, early media, answer, re-INVITEs in both directions (hold, resume, codec changes), DTMF
 * both ways, and transfers. Janus wire names stay in here and in the Janus client.
 */
export class SipLeg {
  private pc: RTCPeerConnection | undefined;
  private phase: 'idle' | 'calling' | 'answered' | 'ended' = 'idle';
  private hangupSent = false;
  private endedWaiters: (() => void)[] = [];
  private videoTransceiver: RTCRtpTransceiver | undefined;
  private audioTransceiver: RTCRtpTransceiver | undefined;
  private registration: ((result: Record<string, unknown>) => void) | undefined;
  private heldLocally = false;
  private heldRemotely = false;
  private audioCodec: string | undefined;
  /** The Janus SIP session id other legs use to call as this leg's identity (its `master_id`). */
  private masterIdValue: number | undefined;
  private identityUri: string | undefined;
  private events: SipLegEvents = IGNORE_SIP_LEG_EVENTS;
  /** Dial-in: the INVITE waiting for `answer` or `decline` on this (registered) handle. */
  private incoming: { readonly offer: JanusJsep | undefined; readonly sipCallId: string | undefined } | undefined;
  private incomingEvents: IncomingCallEvents | undefined;
  private unregistration: (() => void) | undefined;

  private constructor(private readonly handle: JanusHandle) {
    handle.listen((event) => {
      switch (event.kind) {
        case 'plugin':
          void this.onPluginEvent(event.data, event.jsep).catch((error) =>
            log.error('SIP event handling failed', { error: errorMessage(error) }),
          );
          break;
        case 'hangup':
          log.debug('SIP leg PeerConnection closed by Janus', { reason: event.reason });
          break;
        case 'detached':
          this.finish({ reason: 'the Janus session is gone', by: 'remote' });
          break;
        case 'webrtcup':
        case 'media':
        case 'slowlink':
          break;
      }
    });
  }

  /** Attaches a new handle of the Janus SIP plugin; its events go nowhere until `bind`. */
  static async attach(session: JanusSession): Promise<SipLeg> {
    const handle = await session.attach('janus.plugin.sip');
    return new SipLeg(handle);
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
    await this.handle.request({ request: 'register', type: 'guest', username: identity }, undefined, 15_000);
  }

  get peerConnection(): RTCPeerConnection | undefined {
    return this.pc;
  }

  get videoSender(): RTCRtpSender | undefined {
    return this.videoTransceiver?.sender;
  }

  /** The sender of the audio to the SIP peer. */
  get audioSender(): RTCRtpSender | undefined {
    return this.audioTransceiver?.sender;
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

  /** Places the call. Resolves when Janus has taken the INVITE; progress arrives as events. */
  async dial(options: DialOptions): Promise<void> {
    if (this.phase !== 'idle') throw new Error('this SIP leg has already dialed');
    this.phase = 'calling';
    const t0 = performance.now();
    await this.register(options.identity);
    const registered = performance.now();
    const pc = bridgePeerConnection({ iceServers: options.iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    pc.onicecandidate = (event) => this.handle.trickle(event.candidate);
    pc.ontrack = (event) => {
      if (options.lowLatency === true) event.receiver.jitterBufferTarget = 0;
      options.encoded?.receiver(event.receiver);
      this.events.track(event.track);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.events.mediaFailed(`SIP leg connection ${pc.connectionState}`);
    };
    this.audioTransceiver = pc.addTransceiver(options.audio ?? 'audio', {
      direction: options.audio === undefined ? 'recvonly' : 'sendrecv',
    });
    if (options.audioCodecs !== undefined) preferAudioCodecs(this.audioTransceiver, options.audioCodecs);
    // before the offer: the receiving stream is made with the local description, and a transform set later sees nothing
    options.encoded?.receiver(this.audioTransceiver.receiver);
    if (options.audio !== undefined) options.encoded?.sender(this.audioTransceiver.sender);
    if (options.video !== undefined) {
      this.videoTransceiver = pc.addTransceiver(options.video.track ?? 'video', {
        direction: options.video.direction,
        sendEncodings: [{ maxFramerate: options.video.maxFramerate }],
      });
      preferVideoCodecs(this.videoTransceiver, options.video.codecs);
      if (options.video.direction !== 'recvonly') options.encoded?.sender(this.videoTransceiver.sender, 'video');
      if (options.video.direction !== 'sendonly') options.encoded?.receiver(this.videoTransceiver.receiver);
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const offered = performance.now();
    const srtp = options.srtp ?? 'off';
    try {
      await this.handle.send(
        {
          request: 'call',
          uri: options.to,
          headers: { ...options.headers },
          // re-INVITEs come to the page, which answers them with the media it has (hold, codec changes)
          autoaccept_reinvites: false,
          ...(srtp === 'off' ? {} : { srtp: srtp === 'mandatory' ? 'sdes_mandatory' : 'sdes_optional' }),
          ...(options.referId === undefined ? {} : { refer_id: options.referId }),
        },
        { type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp ?? '' },
      );
    } catch (error) {
      // Retried only if Janus never saw the request (the connection was already closed) or refused it: otherwise the
      // INVITE may be out and the phone ringing, and a retry would ring it twice.
      const notSent = error instanceof JanusError && (!error.sent || error.code !== undefined);
      throw new RoomlineError('JANUS_UNAVAILABLE', `Janus did not take the call: ${errorMessage(error)}`, {
        retryable: notSent,
      });
    }
    log.debug('SIP call placed', {
      registerMs: Math.round(registered - t0),
      offerMs: Math.round(offered - registered),
      callAckMs: Math.round(performance.now() - offered),
    });
  }

  /**
   * Registers the caller identity: as a guest, with a trunk account (whose credentials then answer the proxy's digest
   * challenges; with `register` a REGISTER is sent and must succeed first), or as a helper of another leg.
   */
  private async register(identity: SipIdentity, extra: Record<string, unknown> = {}): Promise<void> {
    let body: Record<string, unknown>;
    switch (identity.kind) {
      case 'guest':
        body = {
          request: 'register',
          type: 'guest',
          username: identity.uri,
          ...(identity.display === undefined ? {} : { display_name: identity.display }),
          ...(identity.outboundProxy === undefined ? {} : { outbound_proxy: identity.outboundProxy }),
        };
        this.identityUri = identity.uri;
        break;
      case 'account': {
        const account = identity.account;
        const transport = account.transport ?? 'udp';
        body = {
          request: 'register',
          username: account.username,
          secret: account.secret,
          proxy: account.proxy,
          ...(account.outboundProxy === undefined ? {} : { outbound_proxy: account.outboundProxy }),
          ...(account.authUsername === undefined ? {} : { authuser: account.authUsername }),
          send_register: account.register,
          ...(transport === 'tcp' ? { force_tcp: true } : {}),
          ...(transport === 'tls' ? { sips: true } : {}),
          ...(identity.display === undefined ? {} : { display_name: identity.display }),
        };
        this.identityUri = account.username;
        break;
      }
      case 'helper':
        body = { request: 'register', type: 'helper', username: identity.uri, master_id: identity.masterId };
        this.identityUri = identity.uri;
        break;
    }
    body = { ...body, ...extra };
    const trunk = identity.kind === 'account';
    let data: Record<string, unknown>;
    try {
      ({ data } = await this.handle.request(body, undefined, REGISTER_TIMEOUT_MS));
    } catch (error) {
      // an error the SIP plugin answered is about the identity or the account; anything else is a Janus in trouble
      if (!(error instanceof JanusError) || !error.plugin) {
        throw new RoomlineError('JANUS_UNAVAILABLE', `Janus did not answer the SIP registration: ${errorMessage(error)}`);
      }
      throw new RoomlineError(
        trunk ? 'SIP_AUTH_FAILED' : 'INVALID_REQUEST',
        `the SIP plugin refused the ${trunk ? 'trunk account' : 'caller identity'}: ${errorMessage(error)}`,
      );
    }
    let result = (data['result'] ?? {}) as Record<string, unknown>;
    if (result['event'] === 'registering') {
      // a REGISTER went out: its outcome arrives as a later event
      result = await new Promise<Record<string, unknown>>((resolve) => {
        const timer = setTimeout(() => resolve({ event: 'registration_failed', reason: 'no answer to REGISTER' }), 15_000);
        this.registration = (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        };
      });
    }
    if (result['event'] === 'registration_failed') {
      const code = typeof result['code'] === 'number' ? result['code'] : undefined;
      throw new RoomlineError('SIP_AUTH_FAILED', `REGISTER with the trunk failed: ${code ?? ''} ${String(result['reason'] ?? '')}`.trim(), {
        ...(code === undefined ? {} : { sipCode: code }),
      });
    }
    if (typeof result['master_id'] === 'number' && identity.kind !== 'helper') this.masterIdValue = result['master_id'];
  }

  /**
   * Dial-in: registers this handle as a contact of an inbound address at a registrar (a REGISTER that must succeed),
   * so that INVITEs the registrar forks to it arrive as `incoming` calls. Only the headers with `headerPrefixes` are
   * reported with them.
   */
  async registerInbound(account: SipAccount, headerPrefixes: readonly string[], events: IncomingCallEvents): Promise<void> {
    this.incomingEvents = events;
    await this.register({ kind: 'account', account: { ...account, register: true } }, { incoming_header_prefixes: [...headerPrefixes] });
  }

  /** Removes the registration; resolves true once the registrar confirmed it (false after `timeoutMs`). */
  async unregister(timeoutMs = 5_000): Promise<boolean> {
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.unregistration = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    try {
      await this.handle.request({ request: 'unregister' }, undefined, timeoutMs);
    } catch (error) {
      this.unregistration = undefined;
      log.warn('unregistering failed', { error: errorMessage(error) });
      return false;
    }
    return done;
  }

  /** Refuses the pending incoming call with `code`; false when there was none (it went away meanwhile). */
  async decline(code: number): Promise<boolean> {
    if (this.incoming === undefined || this.phase !== 'idle') return false;
    this.incoming = undefined;
    try {
      await this.handle.request({ request: 'decline', code });
      return true;
    } catch (error) {
      log.debug('declining an incoming call failed', { error: errorMessage(error) });
      return false;
    }
  }

  /**
   * Answers the pending incoming call: the browser answers Janus's offer with the bridge's media and Janus sends the
   * 200 OK. Janus then reports `accepted`, and the leg goes on as a dialled one would (re-INVITEs, DTMF, BYE).
   */
  async answer(options: AnswerOptions): Promise<void> {
    const incoming = this.incoming;
    if (this.phase !== 'idle' || incoming === undefined) throw new RoomlineError('INTERNAL', 'no incoming call to answer');
    if (incoming.offer === undefined) throw new RoomlineError('MEDIA_FAILED', 'an INVITE without an SDP offer cannot be answered');
    this.phase = 'calling';
    const pc = bridgePeerConnection({ iceServers: options.iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    pc.onicecandidate = (event) => this.handle.trickle(event.candidate);
    pc.ontrack = (event) => {
      if (options.lowLatency === true) event.receiver.jitterBufferTarget = 0;
      options.encoded?.receiver(event.receiver);
      this.events.track(event.track);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.events.mediaFailed(`SIP leg connection ${pc.connectionState}`);
    };
    await pc.setRemoteDescription(incoming.offer);
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      if (kind === 'audio' && this.audioTransceiver === undefined) {
        this.audioTransceiver = transceiver;
        if (options.audio !== undefined) {
          await transceiver.sender.replaceTrack(options.audio);
          options.encoded?.sender(transceiver.sender);
        }
        transceiver.direction = options.audio === undefined ? 'recvonly' : 'sendrecv';
        if (options.audioCodecs !== undefined) preferAudioCodecs(transceiver, options.audioCodecs);
      } else if (kind === 'video' && options.video !== undefined && this.videoTransceiver === undefined) {
        this.videoTransceiver = transceiver;
        if (options.video.track !== undefined) await transceiver.sender.replaceTrack(options.video.track);
        transceiver.direction = options.video.direction;
        if (options.video.direction !== 'recvonly') options.encoded?.sender(transceiver.sender, 'video');
      } else {
        transceiver.direction = 'inactive';
      }
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const srtp = options.srtp ?? 'off';
    try {
      await this.handle.send(
        {
          request: 'accept',
          autoaccept_reinvites: false,
          ...(srtp === 'off' ? {} : { srtp: srtp === 'mandatory' ? 'sdes_mandatory' : 'sdes_optional' }),
        },
        { type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' },
      );
    } catch (error) {
      throw new RoomlineError('JANUS_UNAVAILABLE', `Janus did not take the answer: ${errorMessage(error)}`);
    }
    this.incoming = undefined;
  }

  private onIncomingCall(result: Record<string, unknown>, sipCallId: string | undefined, jsep: JanusJsep | undefined): void {
    const callId = sipCallId ?? (typeof result['call_id'] === 'string' ? result['call_id'] : undefined);
    if (this.phase !== 'idle' || callId === undefined) {
      log.warn('an incoming call this leg cannot take', { phase: this.phase });
      void this.handle.request({ request: 'decline', code: 486 }).catch(() => undefined);
      return;
    }
    this.incoming = { offer: jsep, sipCallId: callId };
    const headers: Record<string, string> = {};
    const raw = result['headers'];
    if (typeof raw === 'object' && raw !== null) {
      for (const [name, value] of Object.entries(raw)) if (typeof value === 'string') headers[name] = value;
    }
    const displayName = typeof result['displayname'] === 'string' ? result['displayname'].replace(/^"|"$/g, '') : undefined;
    this.incomingEvents?.incoming({
      sipCallId: callId,
      from: String(result['username'] ?? ''),
      ...(displayName === undefined || displayName === '' ? {} : { displayName }),
      to: String(result['callee'] ?? ''),
      headers,
    });
  }

  /**
   * Sends DTMF digits ("," pauses 2 s) on the answered call: as RFC 2833 telephone-events on the audio stream
   * (RTCDTMFSender), or one SIP INFO (application/dtmf-relay) per digit. Resolves once the last one was sent.
   */
  async sendDtmf(digits: string, carriage: DtmfCarriage): Promise<number> {
    if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'DTMF needs an answered call');
    const count = digits.replace(/,/g, '').length;
    switch (carriage) {
      case 'rfc2833': {
        const dtmf = this.audioTransceiver?.sender.dtmf;
        // right after the answer the sender may not take tones yet (its DTLS transport still connecting): wait for it
        const deadline = Date.now() + DTMF_READY_TIMEOUT_MS;
        while (dtmf !== undefined && dtmf !== null && !dtmf.canInsertDTMF && Date.now() < deadline && this.phase === 'answered') {
          await sleep(50);
        }
        if (dtmf === undefined || dtmf === null || !dtmf.canInsertDTMF) {
          throw new RoomlineError('INVALID_REQUEST', 'the SIP peer did not accept telephone-events (RFC 2833): send DTMF by SIP INFO');
        }
        const done = new Promise<void>((resolve) => {
          const onTone = (event: RTCDTMFToneChangeEvent) => {
            if (event.tone !== '') return;
            dtmf.removeEventListener('tonechange', onTone);
            resolve();
          };
          dtmf.addEventListener('tonechange', onTone);
        });
        dtmf.insertDTMF(digits, DTMF_TONE_MS, DTMF_GAP_MS);
        const expectedMs = [...digits].reduce((ms, d) => ms + (d === ',' ? DTMF_PAUSE_MS : DTMF_TONE_MS + DTMF_GAP_MS), 0);
        await Promise.race([done, sleep(expectedMs + 5_000)]);
        return count;
      }
      case 'info':
        for (const digit of digits) {
          if (digit === ',') {
            await sleep(DTMF_PAUSE_MS);
            continue;
          }
          if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'the call ended while sending DTMF');
          await this.handle.request({ request: 'dtmf_info', digit, duration: DTMF_TONE_MS });
          await sleep(DTMF_GAP_MS);
        }
        return count;
    }
  }

  /**
   * Puts the call on hold: a re-INVITE with the media `inactive`, so neither side hears the other (Janus drops the
   * media both ways while held; the room goes on unheard by the peer).
   */
  async hold(): Promise<void> {
    if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'hold needs an answered call');
    if (this.heldLocally) return;
    await this.handle.request({ request: 'hold', direction: 'inactive' });
    this.heldLocally = true;
    this.events.holdChanged({ held: true, by: 'local', change: 'hold' });
  }

  /** Takes the call off hold: a re-INVITE restoring the media as it was. */
  async resume(): Promise<void> {
    if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'resume needs an answered call');
    if (!this.heldLocally) return;
    await this.handle.request({ request: 'unhold' });
    this.heldLocally = false;
    this.events.holdChanged({ held: this.heldRemotely, by: 'local', change: 'resume' });
  }

  /** Asks the peer to call `to` instead (blind transfer: REFER); the peer's NOTIFYs arrive as `transferNotified`. */
  async transfer(to: string): Promise<void> {
    if (this.phase !== 'answered') throw new RoomlineError('INVALID_REQUEST', 'transfer needs an answered call');
    await this.handle.request({ request: 'transfer', uri: to });
  }

  /** Refuses a transfer the peer asked for (NOTIFY 603). */
  async declineTransfer(referId: number): Promise<void> {
    await this.handle.request({ request: 'decline', refer_id: referId, code: 603 }).catch((error: unknown) =>
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
    await this.handle.send({ request: 'hangup' }).catch(() => undefined);
    await Promise.race([ended, sleep(timeoutMs)]);
    // finish() is idempotent: a no-op when Janus confirmed the hangup in time
    this.finish({ reason: 'hangup not confirmed by Janus', by: 'local' });
    return true;
  }

  async close(): Promise<void> {
    if (this.phase === 'calling' || this.phase === 'answered') await this.hangup();
    this.releaseMedia();
    await this.handle.detach();
  }

  /** Closes the leg's PeerConnection but keeps its handle (a helper leg needs the handle of its master). */
  releaseMedia(): void {
    this.pc?.close();
  }

  private async onPluginEvent(data: Record<string, unknown>, jsep: JanusJsep | undefined): Promise<void> {
    if (typeof data['error_code'] === 'number') {
      log.warn('SIP plugin error', { code: data['error_code'], error: data['error'] });
      if (this.phase === 'calling') this.finish({ reason: String(data['error'] ?? 'SIP plugin error'), by: 'remote' });
      return;
    }
    const result = (data['result'] ?? {}) as Record<string, unknown>;
    const event = String(result['event'] ?? '');
    const code = typeof result['code'] === 'number' ? result['code'] : undefined;
    const reason = typeof result['reason'] === 'string' ? result['reason'] : undefined;
    const sipCallId = typeof data['call_id'] === 'string' ? data['call_id'] : undefined;
    switch (event) {
      case 'calling':
      case 'ringing':
      case 'proceeding':
        this.events.progress(event, { ...(code === undefined ? {} : { code }), ...(reason ? { reason } : {}), ...(sipCallId ? { sipCallId } : {}) });
        break;
      case 'progress': {
        if (jsep !== undefined) await this.applyAnswer(jsep);
        this.audioCodec = this.negotiatedAudioCodec();
        this.events.progress('progress', { code: 183, ...(this.audioCodec === undefined ? {} : { audioCodec: this.audioCodec }) });
        break;
      }
      case 'accepted': {
        if (jsep !== undefined) await this.applyAnswer(jsep);
        this.phase = 'answered';
        this.audioCodec = this.negotiatedAudioCodec();
        const video = this.videoTransceiver === undefined ? undefined : this.videoOutcome();
        this.events.progress('accepted', {
          code: 200,
          ...(this.audioCodec === undefined ? {} : { audioCodec: this.audioCodec }),
          ...(video === undefined ? {} : { video }),
        });
        break;
      }
      case 'registered':
      case 'registration_failed':
        this.registration?.(result);
        this.registration = undefined;
        break;
      case 'updatingcall':
        await this.answerReinvite(jsep);
        break;
      case 'info':
        this.onInfo(String(result['type'] ?? ''), String(result['content'] ?? ''));
        break;
      case 'transfer': {
        const referId = result['refer_id'];
        const target = result['refer_to'];
        if (typeof referId === 'number' && typeof target === 'string') this.events.transferRequested({ referId, target });
        break;
      }
      case 'notify':
        if (result['notify'] === 'refer') this.onReferNotify(String(result['content'] ?? ''));
        break;
      case 'incomingcall':
        this.onIncomingCall(result, sipCallId, jsep);
        break;
      case 'missed_call':
        log.debug('an INVITE arrived while this handle was busy: Janus answered 486');
        break;
      case 'unregistered':
        this.unregistration?.();
        this.unregistration = undefined;
        break;
      case 'hangup':
        if (this.phase === 'idle') {
          // a pending incoming call went away (the caller cancelled, another contact answered, or it was declined)
          const gone = this.incoming;
          this.incoming = undefined;
          if (gone !== undefined) this.incomingEvents?.gone(gone.sipCallId);
          break;
        }
        this.finish({
          ...(code === undefined ? {} : { code }),
          ...(reason ? { reason } : {}),
          by: this.hangupSent ? 'local' : 'remote',
        });
        break;
      default:
        log.debug('SIP event', { event });
    }
  }

  /** A SIP INFO from the peer: DTMF as application/dtmf-relay (`Signal=5`) or application/dtmf (`5`). */
  private onInfo(type: string, content: string): void {
    const contentType = type.toLowerCase();
    const digit =
      contentType === 'application/dtmf-relay'
        ? /Signal\s*=\s*([0-9*#A-Da-d])/.exec(content)?.[1]
        : contentType === 'application/dtmf'
          ? /^\s*([0-9*#A-Da-d])\s*$/.exec(content)?.[1]
          : undefined;
    if (digit === undefined) {
      log.debug('SIP INFO without a digit ignored', { type: contentType });
      return;
    }
    this.events.dtmf(digit.toUpperCase());
  }

  /** A NOTIFY about our REFER: its body is a SIP status line (message/sipfrag), e.g. "SIP/2.0 200 OK". */
  private onReferNotify(content: string): void {
    const status = /^SIP\/2\.0\s+(\d{3})\s*([^\r\n]*)/.exec(content.trim());
    if (status === null) return;
    this.events.transferNotified({ code: Number(status[1]), ...(status[2] ? { reason: status[2] } : {}) });
  }

  /** Whether the SIP peer's answer kept the video m-line, and the codec it chose. */
  private videoOutcome(): { negotiated: boolean; codec?: string } {
    const transceiver = this.videoTransceiver;
    const section = mediaSection(this.pc?.remoteDescription?.sdp ?? '', 'video', transceiver?.mid);
    const port = Number(section?.split(' ')[1] ?? '0');
    const negotiated =
      section !== undefined && port !== 0 && !/a=inactive/.test(section) && transceiver?.currentDirection !== 'inactive';
    if (!negotiated) return { negotiated: false };
    const codec = firstCodec(section);
    return { negotiated: true, ...(codec === undefined ? {} : { codec: codec.toUpperCase() }) };
  }

  /** The audio codec of the peer's answer (its first payload type), as the remote description names it. */
  private negotiatedAudioCodec(): string | undefined {
    const section = mediaSection(this.pc?.remoteDescription?.sdp ?? '', 'audio', this.audioTransceiver?.mid);
    return section === undefined ? undefined : firstCodec(section);
  }

  private async applyAnswer(jsep: JanusJsep): Promise<void> {
    const pc = this.pc;
    if (pc === undefined || pc.signalingState !== 'have-local-offer') return; // already applied (early media)
    await pc.setRemoteDescription(jsep);
  }

  /**
   * A re-INVITE from the peer: hold (its audio `sendonly` or `inactive`), resume, or new media (another codec or
   * address, which Janus follows on the SIP side). Answered with the media the bridge has: the WebRTC answer keeps
   * the peer's direction and codec, so the leg follows it.
   */
  private async answerReinvite(jsep: JanusJsep | undefined): Promise<void> {
    const pc = this.pc;
    if (pc === undefined || jsep === undefined || jsep.type !== 'offer') return;
    const offered = mediaSection(jsep.sdp ?? '', 'audio', this.audioTransceiver?.mid);
    const direction = /^a=(sendonly|inactive|recvonly|sendrecv)\s*$/m.exec(offered ?? '')?.[1] ?? 'sendrecv';
    await pc.setRemoteDescription(jsep);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    try {
      await this.handle.request({ request: 'update' }, { type: 'answer', sdp: answer.sdp ?? '' });
    } catch (error) {
      log.warn('answering a re-INVITE failed', { error: errorMessage(error) });
      return;
    }
    const heldNow = direction === 'sendonly' || direction === 'inactive';
    if (heldNow !== this.heldRemotely) {
      this.heldRemotely = heldNow;
      this.events.holdChanged({ held: heldNow || this.heldLocally, by: 'remote', change: heldNow ? 'hold' : 'resume' });
    }
    const codec = this.negotiatedAudioCodec();
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

/** Listeners that ignore every event: spread it under the ones a caller cares about. */
export const IGNORE_SIP_LEG_EVENTS: SipLegEvents = {
  progress: () => undefined,
  ended: () => undefined,
  track: () => undefined,
  mediaFailed: () => undefined,
  dtmf: () => undefined,
  holdChanged: () => undefined,
  mediaUpdated: () => undefined,
  transferRequested: () => undefined,
  transferNotified: () => undefined,
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The m-section of `kind` in an SDP (the one with `mid` when given and present). */
function mediaSection(sdp: string, kind: 'audio' | 'video', mid: string | null | undefined): string | undefined {
  const sections = sdp.split(/\r?\n(?=m=)/).filter((s) => s.startsWith(`m=${kind}`));
  return (mid === null || mid === undefined ? undefined : sections.find((s) => s.includes(`a=mid:${mid}`))) ?? sections[0];
}

/** The codec of an m-section's first payload type (e.g. "opus", "PCMU", "G722", "H264"). */
function firstCodec(section: string): string | undefined {
  const payload = section.split('\n')[0]?.trim().split(' ')[3];
  return payload === undefined ? undefined : new RegExp(`a=rtpmap:${payload} ([^/\\s]+)`).exec(section)?.[1];
}

/** Offers only the wanted audio codecs, in that order, keeping telephone-event (RFC 2833 DTMF) and comfort noise. */
function preferAudioCodecs(transceiver: RTCRtpTransceiver, wanted: readonly SipAudioCodec[]): void {
  const capabilities = RTCRtpReceiver.getCapabilities('audio')?.codecs ?? [];
  const subtype = (c: RTCRtpCodec) => c.mimeType.split('/')[1]?.toLowerCase() ?? '';
  const preferred = wanted.flatMap((name) => capabilities.filter((c) => subtype(c) === name.toLowerCase()));
  if (preferred.length === 0) throw new RoomlineError('MEDIA_FAILED', `this browser cannot send ${wanted.join('/')}`);
  const helpers = capabilities.filter((c) => subtype(c) === 'telephone-event' || subtype(c) === 'cn');
  transceiver.setCodecPreferences([...preferred, ...helpers]);
}

/** Orders the transceiver's codecs so the wanted ones (by MIME subtype, e.g. "H264") come first, or only them. */
function preferVideoCodecs(transceiver: RTCRtpTransceiver, wanted: readonly string[]): void {
  if (wanted.length === 0) return;
  const capabilities = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
  const subtype = (c: RTCRtpCodec) => c.mimeType.split('/')[1]?.toUpperCase() ?? '';
  // H.264 for SIP means the constrained baseline profile (profile-level-id 42xxxx) legacy systems decode
  const preferred = capabilities.filter(
    (c) => wanted.includes(subtype(c)) && (subtype(c) !== 'H264' || /profile-level-id=42/.test(c.sdpFmtpLine ?? '')),
  );
  // keep the repair formats (rtx, red, ulpfec) so retransmissions still work
  const repair = capabilities.filter((c) => ['RTX', 'RED', 'ULPFEC'].includes(subtype(c)));
  if (preferred.length === 0) throw new RoomlineError('MEDIA_FAILED', `this browser cannot send ${wanted.join('/')}`);
  transceiver.setCodecPreferences([...preferred, ...repair]);
}
