import { RoomlineError } from '../../contracts/errors.js';
import type { SipAudioCodec } from '../../contracts/telephony.js';
import type { JanusJsep } from '../janus/janus-client.js';
import type { EncodedTaps } from '../media/encoded-relay.js';
import { bridgePeerConnection } from '../media/peer-connection.js';

/** What a SIP leg's media is made of, whether it offers (a dialled call) or answers (an incoming one). */
export interface SipLegMediaOptions {
  readonly iceServers: RTCIceServer[];
  /** Offer only these audio codecs, in this order (telephone-event always stays). @default all the browser has */
  readonly audioCodecs?: readonly SipAudioCodec[];
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

/** Where the connection reports: its candidates (to trickle), the peer's tracks, and a failed ICE/DTLS. */
export interface SipLegMediaEvents {
  candidate(candidate: RTCIceCandidate | null): void;
  track(track: MediaStreamTrack): void;
  failed(reason: string): void;
}

/**
 * The WebRTC side of one SIP leg: its one peer connection towards Janus, its audio and video transceivers (made for
 * an offer, or taken from Janus's offer), the codecs it prefers, and what the SIP peer's descriptions chose.
 */
export class SipLegMedia {
  readonly pc: RTCPeerConnection;
  private audioTransceiver: RTCRtpTransceiver | undefined;
  private videoTransceiver: RTCRtpTransceiver | undefined;
  /** While a prepared call waits for its INVITE: the candidates gathered (they go in its offer, not trickled). */
  private held: (RTCIceCandidate | null)[] | undefined;

  constructor(
    private readonly options: SipLegMediaOptions,
    events: SipLegMediaEvents,
    how: { readonly holdCandidates: boolean } = { holdCandidates: false },
  ) {
    const pc = bridgePeerConnection({ iceServers: options.iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    if (how.holdCandidates) this.held = [];
    pc.onicecandidate = (event) => {
      if (this.held === undefined) events.candidate(event.candidate);
      else this.held.push(event.candidate);
    };
    pc.ontrack = (event) => {
      if (options.lowLatency === true) event.receiver.jitterBufferTarget = 0;
      options.encoded?.receiver(event.receiver);
      events.track(event.track);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') events.failed(`SIP leg connection ${pc.connectionState}`);
    };
  }

  get audioSender(): RTCRtpSender | undefined {
    return this.audioTransceiver?.sender;
  }

  get videoSender(): RTCRtpSender | undefined {
    return this.videoTransceiver?.sender;
  }

  /** Whether the leg has a video m-line at all. */
  get hasVideo(): boolean {
    return this.videoTransceiver !== undefined;
  }

  /** A dialled call: the transceivers, tapped before negotiation, and the offer (set as the local description). */
  async offer(): Promise<JanusJsep> {
    const { pc, options } = this;
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
    return { type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp ?? '' };
  }

  /** Resolves once ICE gathering completed, with how many candidates were gathered. */
  gathered(): Promise<number> {
    const { pc } = this;
    return new Promise((resolve) => {
      let count = 0;
      const done = () => {
        pc.removeEventListener('icecandidate', onCandidate);
        pc.removeEventListener('icegatheringstatechange', onState);
        resolve(count);
      };
      const onCandidate = (event: RTCPeerConnectionIceEvent) => {
        if (event.candidate === null) done();
        else count++;
      };
      const onState = () => {
        if (pc.iceGatheringState === 'complete') done();
      };
      pc.addEventListener('icecandidate', onCandidate);
      pc.addEventListener('icegatheringstatechange', onState);
    });
  }

  /**
   * A prepared call's INVITE goes now: its offer as the local description is now (with every candidate gathered so
   * far, which are not trickled again), and the candidates from now on are trickled. `ended`: gathering is complete
   * already, so the end of candidates is to be trickled once the offer is out.
   */
  releaseCandidates(): { readonly offer: JanusJsep; readonly ended: boolean } {
    const held = this.held ?? [];
    this.held = undefined;
    return { offer: { type: 'offer', sdp: this.pc.localDescription?.sdp ?? '' }, ended: held.includes(null) };
  }

  /** An incoming call: Janus's offer, the transceivers it made given the bridge's media, and the answer. */
  async answer(offer: JanusJsep): Promise<JanusJsep> {
    const { pc, options } = this;
    await pc.setRemoteDescription(offer);
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
    return { type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' };
  }

  /** The peer's answer to the offer, unless it was applied already (with early media). */
  async applyAnswer(jsep: JanusJsep): Promise<void> {
    if (this.pc.signalingState !== 'have-local-offer') return;
    await this.pc.setRemoteDescription(jsep);
  }

  /**
   * Answers a re-INVITE's offer with the media the bridge has (the answer keeps the peer's direction and codec);
   * `held`: the peer's audio is `sendonly` or `inactive` in it.
   */
  async answerUpdate(offer: JanusJsep): Promise<{ answer: JanusJsep; held: boolean }> {
    const offered = mediaSection(offer.sdp ?? '', 'audio', this.audioTransceiver?.mid);
    const direction = /^a=(sendonly|inactive|recvonly|sendrecv)\s*$/m.exec(offered ?? '')?.[1] ?? 'sendrecv';
    await this.pc.setRemoteDescription(offer);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return { answer: { type: 'answer', sdp: answer.sdp ?? '' }, held: direction === 'sendonly' || direction === 'inactive' };
  }

  /** The audio codec of the peer's answer (its first payload type), as the remote description names it. */
  negotiatedAudioCodec(): string | undefined {
    const section = mediaSection(this.pc.remoteDescription?.sdp ?? '', 'audio', this.audioTransceiver?.mid);
    return section === undefined ? undefined : firstCodec(section);
  }

  /** Whether the SIP peer's answer kept the video m-line, and the codec it chose. */
  videoOutcome(): { negotiated: boolean; codec?: string } {
    const transceiver = this.videoTransceiver;
    const section = mediaSection(this.pc.remoteDescription?.sdp ?? '', 'video', transceiver?.mid);
    const port = Number(section?.split(' ')[1] ?? '0');
    const negotiated =
      section !== undefined && port !== 0 && !/a=inactive/.test(section) && transceiver?.currentDirection !== 'inactive';
    if (!negotiated) return { negotiated: false };
    const codec = firstCodec(section);
    return { negotiated: true, ...(codec === undefined ? {} : { codec: codec.toUpperCase() }) };
  }
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
