import type { LegQuality } from '../../contracts/call-record.js';
import { keepNativePeerConnection } from '../media/peer-connection.js';
import { legQuality, mergeLegs } from '../media/stats.js';
import { FrameSink, readFrames } from '../media/video-frames.js';

/**
 * Page mode's hold on the app's media, installed before any script of the app runs:
 * - media in: `navigator.mediaDevices.getUserMedia` / `enumerateDevices` (and the legacy `getUserMedia` names) give the
 *   app the bridge's own microphone and camera: stable tracks into which the bridge routes the SIP peer's audio and
 *   picture as they come and go;
 * - media out: `RTCPeerConnection` is wrapped transparently (a Proxy: `instanceof`, statics, subclassing and the app's
 *   own configuration, encoded insertable streams included, are untouched) so every remote track the app receives is
 *   seen here too.
 */

/** A remote track the app received, with the key of the participant it belongs to. */
export interface CapturedTrack {
  /** `<connection>/<stream id>`: one participant as far as the tracks tell. */
  readonly key: string;
  readonly track: MediaStreamTrack;
  readonly connection: RTCPeerConnection;
}

export interface MediaHubListener {
  track(captured: CapturedTrack): void;
}

/** The devices the app sees: the bridge's microphone and camera (the SIP side), and a default speaker. */
const DEVICES = [
  { deviceId: 'roomline-sip-audio', kind: 'audioinput', label: 'Roomline SIP audio', groupId: 'roomline' },
  { deviceId: 'roomline-sip-video', kind: 'videoinput', label: 'Roomline SIP video', groupId: 'roomline' },
  { deviceId: 'default', kind: 'audiooutput', label: 'Default', groupId: 'roomline' },
] as const;

/** How often the camera repeats its last picture (or black) while the SIP side sends none: keeps encoders alive. */
const IDLE_FRAME_MS = 500;

export class MediaHub {
  /** Made at first use: a frame whose app never asks for media (an ad, a widget) costs nothing. */
  private devices_: { context: AudioContext; microphone: MediaStreamAudioDestinationNode; camera: FrameSink } | undefined;
  private audioSource: MediaStreamAudioSourceNode | undefined;
  private pendingAudio: MediaStreamTrack | undefined;
  private pendingVideo: MediaStreamTrack | undefined;
  private videoReader: { stop(): void } | undefined;
  private lastFrameAt = 0;
  /** Tracks handed to the app (clones of the stable ones), to recognise the app's senders of them. */
  private readonly handedOut = new WeakSet<MediaStreamTrack>();
  readonly connections = new Set<RTCPeerConnection>();
  private readonly captured: CapturedTrack[] = [];
  private readonly listeners: MediaHubListener[] = [];
  private readonly useListeners: (() => void)[] = [];
  private nextConnectionId = 1;
  /** Statistics of connections the hub does not hold itself (an app in a cross-origin frame, relayed). */
  private readonly extraLegs = new Map<string, () => LegQuality | undefined>();

  /** What the app gets from getUserMedia: clones of the stable microphone and camera. */
  userMedia(constraints: MediaStreamConstraints | undefined): MediaStream {
    const tracks: MediaStreamTrack[] = [];
    const devices = this.devices();
    if (constraints?.audio !== undefined && constraints.audio !== false) {
      tracks.push(this.handOut(firstTrack(devices.microphone.stream)));
    }
    if (constraints?.video !== undefined && constraints.video !== false) tracks.push(this.handOut(devices.camera.track));
    if (tracks.length === 0) throw new TypeError('getUserMedia: at least one of audio and video must be requested');
    void devices.context.resume().catch(() => undefined);
    return new MediaStream(tracks);
  }

  deviceList(): MediaDeviceInfo[] {
    return DEVICES.map((d) => ({ ...d, toJSON: () => ({ ...d }) }) as unknown as MediaDeviceInfo);
  }

  /** The SIP peer's audio (or silence) becomes the app's microphone from now on. */
  setAudio(track: MediaStreamTrack | undefined): void {
    this.pendingAudio = track;
    const devices = this.devices_;
    if (devices === undefined) return;
    this.audioSource?.disconnect();
    this.audioSource = undefined;
    if (track !== undefined) {
      this.audioSource = devices.context.createMediaStreamSource(new MediaStream([track]));
      this.audioSource.connect(devices.microphone);
    }
    void devices.context.resume().catch(() => undefined);
  }

  /** The SIP peer's picture (or black) becomes the app's camera from now on. */
  setVideo(track: MediaStreamTrack | undefined): void {
    this.pendingVideo = track;
    const devices = this.devices_;
    if (devices === undefined) return;
    this.videoReader?.stop();
    this.videoReader = undefined;
    if (track === undefined) return;
    this.videoReader = readFrames(track, (frame) => {
      this.lastFrameAt = performance.now();
      devices.camera.write(frame);
    });
  }

  /** The stable microphone and camera themselves (what a frame relay sends on), made if not yet. */
  stableTracks(): { audio: MediaStreamTrack; video: MediaStreamTrack } {
    const devices = this.devices();
    return { audio: this.handOut(firstTrack(devices.microphone.stream)), video: this.handOut(devices.camera.track) };
  }

  /** Whether `track` is one the app got from the hub (so a sender of it carries the bridge's media). */
  isOurs(track: MediaStreamTrack | null): boolean {
    return track !== null && this.handedOut.has(track);
  }

  /** Receives every remote track captured so far and from now on. */
  listen(listener: MediaHubListener): void {
    this.listeners.push(listener);
    for (const captured of this.captured) listener.track(captured);
  }

  /** Called once, the first time the app asks for media or makes a peer connection. */
  onFirstUse(listener: () => void): void {
    this.useListeners.push(listener);
  }

  /** Called by the wrapped RTCPeerConnection for each connection the app makes. */
  adopt(pc: RTCPeerConnection): void {
    this.used();
    const id = this.nextConnectionId++;
    this.connections.add(pc);
    pc.addEventListener('track', (event) => {
      const stream = event.streams[0]?.id ?? event.track.id;
      this.capture({ key: `${id}/${stream}`, track: event.track, connection: pc });
    });
  }

  /** A remote track of the app, from a connection here or relayed from a frame. */
  capture(captured: CapturedTrack): void {
    this.captured.push(captured);
    for (const listener of this.listeners) listener.track(captured);
  }

  /** Connections the app has not closed. */
  liveConnections(): RTCPeerConnection[] {
    for (const pc of this.connections) if (pc.signalingState === 'closed') this.connections.delete(pc);
    return [...this.connections];
  }

  /** Adds (or, with `undefined`, removes) statistics of connections held elsewhere, under `key`. */
  setExtraLeg(key: string, leg: (() => LegQuality | undefined) | undefined): void {
    if (leg === undefined) this.extraLegs.delete(key);
    else this.extraLegs.set(key, leg);
  }

  /** The room leg as the app's connections see it, relayed frames included. */
  async stats(): Promise<LegQuality> {
    const own = await legQuality(this.liveConnections());
    const extra = [...this.extraLegs.values()].map((leg) => leg()).filter((leg) => leg !== undefined);
    return mergeLegs([own, ...extra]);
  }

  private used(): void {
    for (const listener of this.useListeners.splice(0)) listener();
  }

  private devices(): { context: AudioContext; microphone: MediaStreamAudioDestinationNode; camera: FrameSink } {
    if (this.devices_ !== undefined) return this.devices_;
    this.used();
    const context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
    const microphone = context.createMediaStreamDestination();
    // a silent constant keeps the microphone producing frames before the SIP peer speaks
    const silence = context.createConstantSource();
    silence.offset.value = 0;
    silence.connect(microphone);
    silence.start();
    const camera = new FrameSink();
    this.devices_ = { context, microphone, camera };
    const blank = new OffscreenCanvas(640, 480);
    const drawing = blank.getContext('2d');
    if (drawing !== null) {
      drawing.fillStyle = '#000';
      drawing.fillRect(0, 0, blank.width, blank.height);
    }
    setInterval(() => {
      if (performance.now() - this.lastFrameAt < IDLE_FRAME_MS) return;
      camera.write(new VideoFrame(blank, { timestamp: Math.round(performance.now() * 1000) }));
    }, IDLE_FRAME_MS);
    this.setAudio(this.pendingAudio);
    this.setVideo(this.pendingVideo);
    return this.devices_;
  }

  private handOut(track: MediaStreamTrack): MediaStreamTrack {
    const clone = track.clone();
    this.handedOut.add(clone);
    return clone;
  }
}

function firstTrack(stream: MediaStream): MediaStreamTrack {
  const track = stream.getAudioTracks()[0];
  if (track === undefined) throw new Error('the bridge microphone has no track');
  return track;
}

/** Installs the hub in this window: the app's media devices and peer connections are the bridge's from now on. */
export function installMediaHub(target: Window & typeof globalThis = window): MediaHub {
  const hub = new MediaHub();
  const getUserMedia = async (constraints?: MediaStreamConstraints) => hub.userMedia(constraints);
  const enumerateDevices = async () => hub.deviceList();
  // an insecure context has no mediaDevices: the app still finds the bridge's (page mode needs a secure context anyway)
  const devices = target.navigator.mediaDevices ?? (Object.create(EventTarget.prototype) as MediaDevices);
  Object.defineProperty(devices, 'getUserMedia', { value: getUserMedia, configurable: true, writable: true });
  Object.defineProperty(devices, 'enumerateDevices', { value: enumerateDevices, configurable: true, writable: true });
  if (target.navigator.mediaDevices === undefined) {
    Object.defineProperty(target.navigator, 'mediaDevices', { value: devices, configurable: true });
  }
  // the callback-style names some older apps still use
  const legacy = (constraints: MediaStreamConstraints, ok: (s: MediaStream) => void, fail: (e: unknown) => void) =>
    void getUserMedia(constraints).then(ok, fail);
  for (const name of ['getUserMedia', 'webkitGetUserMedia']) {
    Object.defineProperty(target.navigator, name, { value: legacy, configurable: true, writable: true });
  }

  const Native = target.RTCPeerConnection;
  keepNativePeerConnection(Native);
  const Wrapped = new Proxy(Native, {
    construct(native, args: unknown[], newTarget: unknown) {
      const pc = Reflect.construct(native, args, newTarget as typeof Native) as RTCPeerConnection;
      hub.adopt(pc);
      return pc;
    },
  });
  Object.defineProperty(target, 'RTCPeerConnection', { value: Wrapped, configurable: true, writable: true });
  if ('webkitRTCPeerConnection' in target) {
    Object.defineProperty(target, 'webkitRTCPeerConnection', { value: Wrapped, configurable: true, writable: true });
  }
  return hub;
}
