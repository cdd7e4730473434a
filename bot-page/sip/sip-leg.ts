import { RoomlineError } from '../../contracts/errors.js';
import type { SIP_PROGRESS_EVENTS, SipAccount } from '../../contracts/page-rpc.js';
import { JanusError, type JanusHandle, type JanusJsep, type JanusSession } from '../janus/janus-client.js';
import { errorMessage, log } from '../host.js';
import { bridgePeerConnection } from '../media/peer-connection.js';

export type SipProgressEvent = (typeof SIP_PROGRESS_EVENTS)[number];

export interface SipLegEvents {
  progress(
    event: SipProgressEvent,
    detail: { code?: number; reason?: string; sipCallId?: string; video?: { negotiated: boolean; codec?: string } },
  ): void;
  /** The SIP leg ended: `by` is `remote` for failure responses and BYEs, `local` after our own hangup. */
  ended(detail: { code?: number; reason?: string; by: 'remote' | 'local' }): void;
  /** A remote track from the SIP peer. */
  track(track: MediaStreamTrack): void;
  /** ICE/DTLS failed on the SIP leg. */
  mediaFailed(reason: string): void;
}

export interface DialOptions {
  readonly to: string;
  readonly fromUri: string;
  readonly fromDisplay?: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Trunk credentials; without them the call is placed as a guest (no REGISTER, no authentication). */
  readonly account?: SipAccount;
  readonly iceServers: RTCIceServer[];
  /**
   * Keep the receive jitter buffer as small as the network allows: right for a bridge, whose far ends keep their own
   * buffers. @default false (what a normal endpoint does)
   */
  readonly lowLatency?: boolean;
  /** Tracks to send to the SIP peer; `video` undefined means no video m-line at all. */
  readonly audio: MediaStreamTrack | undefined;
  readonly video:
    | {
        readonly track: MediaStreamTrack | undefined;
        readonly direction: RTCRtpTransceiverDirection;
        readonly codecs: readonly string[];
        readonly maxFramerate: number;
      }
    | undefined;
}

/** How long the SIP plugin may take to answer a `register` request (a guest one sends nothing on the wire). */
const REGISTER_TIMEOUT_MS = 5_000;

/** The SIP leg: one outgoing call through the Janus SIP plugin, as a guest (no REGISTER is sent). */
export class SipLeg {
  private pc: RTCPeerConnection | undefined;
  private phase: 'idle' | 'calling' | 'answered' | 'ended' = 'idle';
  private hangupSent = false;
  private endedWaiters: (() => void)[] = [];
  private videoTransceiver: RTCRtpTransceiver | undefined;
  private audioTransceiver: RTCRtpTransceiver | undefined;
  private registration: ((result: Record<string, unknown>) => void) | undefined;

  private constructor(
    private readonly handle: JanusHandle,
    private readonly events: SipLegEvents,
  ) {
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

  static async attach(session: JanusSession, events: SipLegEvents): Promise<SipLeg> {
    const handle = await session.attach('janus.plugin.sip');
    return new SipLeg(handle, events);
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

  /** Places the call. Resolves when Janus has taken the INVITE; progress arrives as events. */
  async dial(options: DialOptions): Promise<void> {
    if (this.phase !== 'idle') throw new Error('this SIP leg has already dialed');
    this.phase = 'calling';
    const t0 = performance.now();
    await this.register(options);
    const registered = performance.now();
    const pc = bridgePeerConnection({ iceServers: options.iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    pc.onicecandidate = (event) => this.handle.trickle(event.candidate);
    pc.ontrack = (event) => {
      if (options.lowLatency === true) event.receiver.jitterBufferTarget = 0;
      this.events.track(event.track);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.events.mediaFailed(`SIP leg connection ${pc.connectionState}`);
    };
    this.audioTransceiver = pc.addTransceiver(options.audio ?? 'audio', {
      direction: options.audio === undefined ? 'recvonly' : 'sendrecv',
    });
    if (options.video !== undefined) {
      this.videoTransceiver = pc.addTransceiver(options.video.track ?? 'video', {
        direction: options.video.direction,
        sendEncodings: [{ maxFramerate: options.video.maxFramerate }],
      });
      preferCodecs(this.videoTransceiver, options.video.codecs);
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const offered = performance.now();
    try {
      await this.handle.send(
        { request: 'call', uri: options.to, headers: { ...options.headers }, autoaccept_reinvites: false },
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
   * Registers the caller identity: as a guest, or with the trunk's credentials (which then answer the proxy's digest
   * challenges; with `account.register` a REGISTER is sent and must succeed first).
   */
  private async register(options: DialOptions): Promise<void> {
    const display = options.fromDisplay === undefined ? {} : { display_name: options.fromDisplay };
    const account = options.account;
    const body =
      account === undefined
        ? { request: 'register', type: 'guest', username: options.fromUri, ...display }
        : {
            request: 'register',
            username: account.username,
            secret: account.secret,
            proxy: account.proxy,
            ...(account.authUsername === undefined ? {} : { authuser: account.authUsername }),
            send_register: account.register,
            ...display,
          };
    let data: Record<string, unknown>;
    try {
      ({ data } = await this.handle.request(body, undefined, REGISTER_TIMEOUT_MS));
    } catch (error) {
      // an error the SIP plugin answered is about the identity or the account; anything else is a Janus in trouble
      if (!(error instanceof JanusError) || !error.plugin) {
        throw new RoomlineError('JANUS_UNAVAILABLE', `Janus did not answer the SIP registration: ${errorMessage(error)}`);
      }
      throw new RoomlineError(
        account === undefined ? 'INVALID_REQUEST' : 'SIP_AUTH_FAILED',
        `the SIP plugin refused the ${account === undefined ? 'caller identity' : 'trunk account'}: ${errorMessage(error)}`,
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
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    // finish() is idempotent: a no-op when Janus confirmed the hangup in time
    this.finish({ reason: 'hangup not confirmed by Janus', by: 'local' });
    return true;
  }

  async close(): Promise<void> {
    if (this.phase === 'calling' || this.phase === 'answered') await this.hangup();
    this.pc?.close();
    await this.handle.detach();
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
      case 'progress':
        if (jsep !== undefined) await this.applyAnswer(jsep);
        this.events.progress('progress', { code: 183 });
        break;
      case 'accepted': {
        if (jsep !== undefined) await this.applyAnswer(jsep);
        this.phase = 'answered';
        const video = this.videoTransceiver === undefined ? undefined : await this.videoOutcome();
        this.events.progress('accepted', { code: 200, ...(video === undefined ? {} : { video }) });
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
      case 'hangup':
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

  /** Whether the SIP peer's answer kept the video m-line, and the codec it chose. */
  private async videoOutcome(): Promise<{ negotiated: boolean; codec?: string }> {
    const transceiver = this.videoTransceiver;
    const sdp = this.pc?.remoteDescription?.sdp ?? '';
    const mid = transceiver?.mid;
    const section = sdp.split(/\r?\n(?=m=)/).find((s) => s.startsWith('m=video') && (mid === null || mid === undefined || s.includes(`a=mid:${mid}`)));
    const port = Number(section?.split(' ')[1] ?? '0');
    const negotiated =
      section !== undefined && port !== 0 && !/a=inactive/.test(section) && transceiver?.currentDirection !== 'inactive';
    if (!negotiated) return { negotiated: false };
    const payload = section.split('\n')[0]?.trim().split(' ')[3];
    const codec = payload === undefined ? undefined : new RegExp(`a=rtpmap:${payload} ([^/\\s]+)`).exec(section)?.[1];
    return { negotiated: true, ...(codec === undefined ? {} : { codec: codec.toUpperCase() }) };
  }

  private async applyAnswer(jsep: JanusJsep): Promise<void> {
    const pc = this.pc;
    if (pc === undefined || pc.signalingState !== 'have-local-offer') return; // already applied (early media)
    await pc.setRemoteDescription(jsep);
  }

  /** A re-INVITE from the peer (hold, codec change): answer it with our current media. */
  private async answerReinvite(jsep: JanusJsep | undefined): Promise<void> {
    const pc = this.pc;
    if (pc === undefined || jsep === undefined || jsep.type !== 'offer') return;
    await pc.setRemoteDescription(jsep);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.handle.send({ request: 'update' }, { type: 'answer', sdp: answer.sdp ?? '' }).catch((error) =>
      log.warn('answering a re-INVITE failed', { error: errorMessage(error) }),
    );
  }

  private finish(detail: { code?: number; reason?: string; by: 'remote' | 'local' }): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    // the PeerConnection stays open until close(): its statistics are the call's quality summary
    this.events.ended(detail);
    for (const waiter of this.endedWaiters.splice(0)) waiter();
  }
}

/** Orders the transceiver's codecs so the wanted ones (by MIME subtype, e.g. "H264") come first, or only them. */
function preferCodecs(transceiver: RTCRtpTransceiver, wanted: readonly string[]): void {
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

