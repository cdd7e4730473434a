import { keepNativePeerConnection } from '../media/peer-connection.js';
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
  private readonly context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
  private readonly microphone = this.context.createMediaStreamDestination();
  private audioSource: MediaStreamAudioSourceNode | undefined;
  private readonly camera = new FrameSink();
  private videoReader: { stop(): void } | undefined;
  private lastFrameAt = 0;
  private readonly blank = new OffscreenCanvas(640, 480);
  /** Tracks handed to the app (clones of the stable ones), to recognise the app's senders of them. */
  private readonly handedOut = new WeakSet<MediaStreamTrack>();
  readonly connections = new Set<RTCPeerConnection>();
  private readonly captured: CapturedTrack[] = [];
  private listener: MediaHubListener | undefined;
  private readonly connectionIds = new WeakMap<RTCPeerConnection, number>();
  private nextConnectionId = 1;

  constructor() {
    // a silent constant keeps the microphone producing frames before the SIP peer speaks
    const silence = this.context.createConstantSource();
    silence.offset.value = 0;
    silence.connect(this.microphone);
    silence.start();
    const context = this.blank.getContext('2d');
    if (context !== null) {
      context.fillStyle = '#000';
      context.fillRect(0, 0, this.blank.width, this.blank.height);
    }
    setInterval(() => this.idleFrame(), IDLE_FRAME_MS);
  }

  /** What the app gets from getUserMedia: clones of the stable microphone and camera. */
  userMedia(constraints: MediaStreamConstraints | undefined): MediaStream {
    const tracks: MediaStreamTrack[] = [];
    if (constraints?.audio !== undefined && constraints.audio !== false) tracks.push(this.handOut(this.microphoneTrack));
    if (constraints?.video !== undefined && constraints.video !== false) tracks.push(this.handOut(this.camera.track));
    if (tracks.length === 0) throw new TypeError("getUserMedia: at least one of audio and video must be requested");
    void this.context.resume().catch(() => undefined);
    return new MediaStream(tracks);
  }

  devices(): MediaDeviceInfo[] {
    return DEVICES.map((d) => ({ ...d, toJSON: () => ({ ...d }) }) as unknown as MediaDeviceInfo);
  }

  /** The SIP peer's audio (or silence) becomes the app's microphone from now on. */
  setAudio(track: MediaStreamTrack | undefined): void {
    this.audioSource?.disconnect();
    this.audioSource = undefined;
    if (track !== undefined) {
      this.audioSource = this.context.createMediaStreamSource(new MediaStream([track]));
      this.audioSource.connect(this.microphone);
    }
    void this.context.resume().catch(() => undefined);
  }

  /** The SIP peer's picture (or black) becomes the app's camera from now on. */
  setVideo(track: MediaStreamTrack | undefined): void {
    this.videoReader?.stop();
    this.videoReader = undefined;
    if (track === undefined) return;
    this.videoReader = readFrames(track, (frame) => {
      this.lastFrameAt = performance.now();
      this.camera.write(frame);
    });
  }

  /** Whether `track` is one the app got from the hub (so a sender of it carries the bridge's media). */
  isOurs(track: MediaStreamTrack | null): boolean {
    return track !== null && this.handedOut.has(track);
  }

  /** Receives every remote track captured so far and from now on. */
  listen(listener: MediaHubListener): void {
    this.listener = listener;
    for (const captured of this.captured) listener.track(captured);
  }

  /** Called by the wrapped RTCPeerConnection for each connection the app makes. */
  adopt(pc: RTCPeerConnection): void {
    const id = this.nextConnectionId++;
    this.connectionIds.set(pc, id);
    this.connections.add(pc);
    pc.addEventListener('track', (event) => {
      const stream = event.streams[0]?.id ?? event.track.id;
      const captured: CapturedTrack = { key: `${id}/${stream}`, track: event.track, connection: pc };
      this.captured.push(captured);
      this.listener?.track(captured);
    });
  }

  /** Connections the app has not closed. */
  liveConnections(): RTCPeerConnection[] {
    for (const pc of this.connections) if (pc.signalingState === 'closed') this.connections.delete(pc);
    return [...this.connections];
  }

  private get microphoneTrack(): MediaStreamTrack {
    const track = this.microphone.stream.getAudioTracks()[0];
    if (track === undefined) throw new Error('the bridge microphone has no track');
    return track;
  }

  private handOut(track: MediaStreamTrack): MediaStreamTrack {
    const clone = track.clone();
    this.handedOut.add(clone);
    return clone;
  }

  private idleFrame(): void {
    if (performance.now() - this.lastFrameAt < IDLE_FRAME_MS) return;
    this.camera.write(new VideoFrame(this.blank, { timestamp: Math.round(performance.now() * 1000) }));
  }
}

/** Installs the hub in this window: the app's media devices and peer connections are the bridge's from now on. */
export function installMediaHub(target: Window & typeof globalThis = window): MediaHub {
  const hub = new MediaHub();
  const getUserMedia = async (constraints?: MediaStreamConstraints) => hub.userMedia(constraints);
  const enumerateDevices = async () => hub.devices();
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
