import { playMuted } from '../../../bot-page/media/play-muted.js';

/**
 * The media side of the lab's Chime stand-in: one headless page, in the lab's namespace, that answers each attendee's
 * SDP offer with a peer connection of its own (as Chime's media servers do), mixes the meeting's audio for each
 * listener without the listener's own voice, forwards each camera to the attendees that subscribe to it, and tells the
 * signalling server when an attendee's audio flows (presence) and how loud each attendee is (volume indicators).
 * Driven by the lab through `window.__chimeMedia`; it reports through the exposed `__chimeMediaEvent`.
 */

export type MediaEvent =
  | { readonly type: 'audio-flowing'; readonly attendeeId: string }
  | { readonly type: 'video-ready'; readonly attendeeId: string }
  | { readonly type: 'levels'; readonly levels: Record<string, number> };

export interface SubscribeRequest {
  readonly attendeeId: string;
  readonly sdpOffer: string;
  /** Stream id wanted on each video m-line, in order (index 0: the attendee's own camera; 0 = none). */
  readonly receiveStreamIds: readonly number[];
  /** Which attendee's camera each stream id is. */
  readonly sources: Readonly<Record<string, string>>;
}

export interface SubscribeAnswer {
  readonly sdpAnswer: string;
  readonly tracks: { streamId: number; trackLabel: string; ssrc: number }[];
}

interface Attendee {
  readonly id: string;
  readonly pc: RTCPeerConnection;
  /** What this attendee hears: everyone else (and silence, so packets always flow). */
  readonly mix: MediaStreamAudioDestinationNode;
  readonly mixStream: MediaStream;
  voice?: { source: MediaStreamAudioSourceNode; analyser: AnalyserNode; element: HTMLMediaElement };
  camera?: MediaStreamTrack;
  /** The stream each sending video line is a track of (its msid). */
  readonly lineStreams: WeakMap<RTCRtpTransceiver, MediaStream>;
  audioFlowing: boolean;
}

function report(event: MediaEvent): void {
  const fn = (globalThis as unknown as Record<string, ((e: MediaEvent) => Promise<void>) | undefined>)['__chimeMediaEvent'];
  void fn?.(event).catch(() => undefined);
}

class ChimeMedia {
  private readonly context = new AudioContext({ sampleRate: 48_000 });
  private readonly silence = this.context.createConstantSource();
  private readonly attendees = new Map<string, Attendee>();

  constructor() {
    this.silence.offset.value = 0;
    this.silence.start();
    setInterval(() => this.reportLevels(), 200);
  }

  async subscribe(request: SubscribeRequest): Promise<SubscribeAnswer> {
    if (this.context.state === 'suspended') await this.context.resume();
    const attendee = this.attendees.get(request.attendeeId) ?? this.add(request.attendeeId);
    const { pc } = attendee;
    await pc.setRemoteDescription({ type: 'offer', sdp: request.sdpOffer });
    const videoLines: (RTCRtpTransceiver | undefined)[] = [];
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.mid === null) continue;
      if (transceiver.currentDirection === 'stopped' || isRejected(request.sdpOffer, transceiver.mid)) {
        // a rejected m-line (port 0) still takes its place among the video lines
        if (transceiver.receiver.track.kind === 'video') videoLines.push(undefined);
        continue;
      }
      const kind = transceiver.receiver.track.kind;
      if (kind === 'audio') {
        transceiver.direction = 'sendrecv';
        await transceiver.sender.replaceTrack(attendee.mix.stream.getAudioTracks()[0] ?? null);
        transceiver.sender.setStreams(attendee.mixStream);
      } else {
        videoLines.push(transceiver);
      }
    }
    const tracks: SubscribeAnswer['tracks'] = [];
    const wanted = new Map<RTCRtpTransceiver, number>();
    videoLines.forEach((transceiver, index) => {
      if (transceiver === undefined) return;
      if (index === 0) {
        // the attendee's own camera: received here
        transceiver.direction = 'recvonly';
        return;
      }
      const streamId = request.receiveStreamIds[index] ?? 0;
      const source = this.attendees.get(request.sources[String(streamId)] ?? '');
      if (streamId === 0 || source?.camera === undefined) {
        transceiver.direction = 'inactive';
        return;
      }
      transceiver.direction = 'sendonly';
      wanted.set(transceiver, streamId);
    });
    for (const [transceiver, streamId] of wanted) {
      const source = this.attendees.get(request.sources[String(streamId)] ?? '');
      // a stream of its own per m-line, so that the line has an msid the answer can name as the service does
      const lineStream = attendee.lineStreams.get(transceiver) ?? new MediaStream();
      attendee.lineStreams.set(transceiver, lineStream);
      transceiver.sender.setStreams(lineStream);
      await transceiver.sender.replaceTrack(source?.camera ?? null);
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    const mids = [...wanted.keys()].map((t) => t.mid ?? '');
    const sdp = withServiceMsids(pc.localDescription?.sdp ?? '', mids);
    for (const [transceiver, streamId] of wanted) {
      const ssrc = ssrcOf(sdp, transceiver.mid ?? '');
      if (ssrc !== undefined) tracks.push({ streamId, trackLabel: `v_${transceiver.mid ?? ''}`, ssrc });
    }
    return { sdpAnswer: sdp, tracks };
  }

  /** What the media side receives from and sends to each attendee (frames of video, packets of audio). */
  async stats(): Promise<Record<string, { audioIn: number; videoIn: number; videoOut: number; audioOut: number }>> {
    const result: Record<string, { audioIn: number; videoIn: number; videoOut: number; audioOut: number }> = {};
    for (const attendee of this.attendees.values()) {
      const entry = { audioIn: 0, videoIn: 0, videoOut: 0, audioOut: 0 };
      for (const stat of (await attendee.pc.getStats()).values()) {
        const s = stat as { type: string; kind?: string; packetsReceived?: number; packetsSent?: number; framesDecoded?: number; framesEncoded?: number };
        if (s.type === 'inbound-rtp' && s.kind === 'audio') entry.audioIn += s.packetsReceived ?? 0;
        if (s.type === 'inbound-rtp' && s.kind === 'video') entry.videoIn += s.framesDecoded ?? 0;
        if (s.type === 'outbound-rtp' && s.kind === 'audio') entry.audioOut += s.packetsSent ?? 0;
        if (s.type === 'outbound-rtp' && s.kind === 'video') entry.videoOut += s.framesEncoded ?? 0;
      }
      result[attendee.id] = entry;
    }
    return result;
  }

  /** The attendee left or was removed: its connection closes, nobody hears or sees it any more. */
  drop(attendeeId: string): void {
    const attendee = this.attendees.get(attendeeId);
    if (attendee === undefined) return;
    this.attendees.delete(attendeeId);
    attendee.pc.close();
    attendee.voice?.source.disconnect();
    attendee.voice?.element.remove();
    attendee.mix.disconnect();
  }

  private add(id: string): Attendee {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const mix = this.context.createMediaStreamDestination();
    this.silence.connect(mix);
    const attendee: Attendee = {
      id,
      pc,
      mix,
      mixStream: new MediaStream(),
      lineStreams: new WeakMap(),
      audioFlowing: false,
    };
    this.attendees.set(id, attendee);
    for (const other of this.attendees.values()) other.voice?.source.connect(mix);
    pc.ontrack = (event) => {
      if (event.track.kind === 'audio') this.onVoice(attendee, event.track);
      else this.onCamera(attendee, event.track);
    };
    return attendee;
  }

  private onVoice(attendee: Attendee, track: MediaStreamTrack): void {
    const element = playMuted(track);
    const source = this.context.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    attendee.voice = { source, analyser, element };
    // everyone else hears this attendee; this attendee hears everyone else
    for (const other of this.attendees.values()) {
      if (other === attendee) continue;
      source.connect(other.mix);
      other.voice?.source.connect(attendee.mix);
    }
    void this.watchAudio(attendee);
  }

  private onCamera(attendee: Attendee, track: MediaStreamTrack): void {
    attendee.camera = track;
    playMuted(track);
    report({ type: 'video-ready', attendeeId: attendee.id });
  }

  /** Presence follows the attendee's audio, as in Chime: reported once its first packets arrive. */
  private async watchAudio(attendee: Attendee): Promise<void> {
    while (!attendee.audioFlowing && this.attendees.get(attendee.id) === attendee) {
      const stats = await attendee.pc.getStats().catch(() => undefined);
      for (const stat of stats?.values() ?? []) {
        const s = stat as { type: string; kind?: string; packetsReceived?: number };
        if (s.type === 'inbound-rtp' && s.kind === 'audio' && (s.packetsReceived ?? 0) > 0) attendee.audioFlowing = true;
      }
      if (!attendee.audioFlowing) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (attendee.audioFlowing) report({ type: 'audio-flowing', attendeeId: attendee.id });
  }

  /** Each attendee's level now, in dBFS (volume indicators and the active speaker). */
  private reportLevels(): void {
    const levels: Record<string, number> = {};
    const buffer = new Float32Array(1024);
    for (const attendee of this.attendees.values()) {
      if (attendee.voice === undefined || !attendee.audioFlowing) continue;
      attendee.voice.analyser.getFloatTimeDomainData(buffer);
      let sum = 0;
      for (const sample of buffer) sum += sample * sample;
      const rms = Math.sqrt(sum / buffer.length);
      levels[attendee.id] = rms > 0 ? Math.max(-127, 20 * Math.log10(rms)) : -127;
    }
    if (Object.keys(levels).length > 0) report({ type: 'levels', levels });
  }
}

/** Whether the offer rejects the m-line with this mid (port 0). */
function isRejected(sdp: string, mid: string): boolean {
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    if (!new RegExp(`\\r?\\na=mid:${mid}\\r?\\n`).test(`\n${section}\n`)) continue;
    return /^\w+ 0 /.test(section);
  }
  return false;
}

/** Resolves when the connection's candidates are all in its local description (the SDK does not trickle). */
function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', check);
    setTimeout(resolve, 3_000);
  });
}

/**
 * The answer as Chime's media servers write it: each video line it sends on names its stream `v_<mid>` (the SDK keeps
 * a receiving line for the same stream across subscriptions only when it can find the line's stream by that name; with
 * any other name it stops every line at each subscription and adds new ones, and a tile whose stream moved to a new
 * line can be left on the old, ended one).
 */
function withServiceMsids(sdp: string, mids: readonly string[]): string {
  const [head = '', ...sections] = sdp.split(/(?=\r\nm=)/);
  return [
    head,
    ...sections.map((section) => {
      const mid = /\r\na=mid:([^\r\n]+)/.exec(section)?.[1];
      if (mid === undefined || !mids.includes(mid)) return section;
      return section
        .replace(/(\r\na=msid:)\S+ /g, `$1v_${mid} `)
        .replace(/(\r\na=ssrc:\d+ msid:)\S+ /g, `$1v_${mid} `);
    }),
  ].join('');
}

/** The first SSRC of the m-section with this mid. */
function ssrcOf(sdp: string, mid: string): number | undefined {
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    if (!new RegExp(`\\r?\\na=mid:${mid}\\r?\\n`).test(`\n${section}\n`)) continue;
    const match = /a=ssrc:(\d+)/.exec(section);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  }
  return undefined;
}

Object.assign(globalThis, { __chimeMedia: new ChimeMedia() });
document.title = 'roomline lab chime media (ready)';
