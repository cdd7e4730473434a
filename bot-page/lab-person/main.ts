import type { RoomJoin } from '../../contracts/dial-request.js';
import { createRoomAdapter, type RoomAdapter } from '../rooms/room-adapter.js';

/**
 * A simulated room participant for the lab: joins a room, speaks a known tone, and records everything it hears so
 * the lab can check what crossed the bridge. Driven by the lab through `window.__person`.
 */
export interface PersonOptions {
  readonly room: RoomJoin;
  readonly display: string;
  /** Frequency of the tone this person "speaks", in Hz. */
  readonly toneHz: number;
  /** Tone amplitude, 0..1. @default 0.25 */
  readonly toneLevel?: number;
  /** Publish a camera of this solid colour (RGB 0..255), 640x480 at 30 fps. @default no video */
  readonly color?: readonly [number, number, number];
}

/** A video feed this person receives, and what its picture looks like now. */
export interface SeenFeed {
  readonly feedId: string;
  readonly display: string | undefined;
  readonly width: number;
  readonly height: number;
  /** Mean colour of the picture now (RGB 0..255). */
  readonly color: readonly [number, number, number];
}

export interface PersonRecording {
  readonly sampleRate: number;
  /** Mono 16-bit PCM of everything heard since joining, base64. */
  readonly pcmBase64: string;
  /** Epoch ms of the first returned sample (recording runs without gaps, so sample n is at startedAt + n/rate). */
  readonly startedAt: number;
  readonly feeds: readonly string[];
}

const RECORDER_WORKLET = `
class Recorder extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor('roomline-recorder', Recorder);
`;

class Person {
  private readonly context = new AudioContext({ sampleRate: 48_000 });
  private readonly mix = this.context.createGain();
  private readonly chunks: Float32Array[] = [];
  private startedAt = 0;
  private room: RoomAdapter | undefined;
  private readonly feeds = new Set<string>();
  private voice: GainNode | undefined;
  private readonly videos = new Map<string, HTMLVideoElement>();
  private voiceLevel = 0.25;

  async start(options: PersonOptions): Promise<{ selfId: string }> {
    await this.context.resume();
    const url = URL.createObjectURL(new Blob([RECORDER_WORKLET], { type: 'text/javascript' }));
    await this.context.audioWorklet.addModule(url);
    const recorder = new AudioWorkletNode(this.context, 'roomline-recorder');
    recorder.port.onmessage = (event: MessageEvent<Float32Array>) => this.record(event.data);
    this.mix.connect(recorder);

    const speaker = this.context.createMediaStreamDestination();
    const tone = this.context.createOscillator();
    tone.frequency.value = options.toneHz;
    this.voiceLevel = options.toneLevel ?? 0.25;
    this.voice = this.context.createGain();
    this.voice.gain.value = this.voiceLevel;
    tone.connect(this.voice).connect(speaker);
    tone.start();

    const room = createRoomAdapter(
      options.room,
      {
        participantJoined: () => undefined,
        participantLeft: () => undefined,
        track: (feedId, track) => {
          if (track.kind === 'video') {
            const video = document.createElement('video');
            video.muted = true;
            video.autoplay = true;
            video.srcObject = new MediaStream([track]);
            document.body.append(video);
            void video.play().catch(() => undefined);
            this.videos.set(feedId, video);
            return;
          }
          this.feeds.add(feedId);
          const stream = new MediaStream([track]);
          const element = document.createElement('audio');
          element.muted = true;
          element.srcObject = stream;
          document.body.append(element);
          void element.play().catch(() => undefined);
          this.context.createMediaStreamSource(stream).connect(this.mix);
        },
        lost: () => undefined,
      },
      { iceServers: [] },
    );
    this.room = room;
    const { selfId } = await room.join(options.display);
    const audio = speaker.stream.getAudioTracks()[0];
    const video = options.color === undefined ? undefined : camera(options.color);
    await room.publish(options.display, {
      ...(audio === undefined ? {} : { audio }),
      ...(video === undefined ? {} : { video }),
    });
    return { selfId };
  }

  /** The video feeds this person receives, with the mean colour of each picture now. */
  seenFeeds(): SeenFeed[] {
    const displays = new Map((this.room?.participants() ?? []).map((p) => [p.id, p.display]));
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const feeds: SeenFeed[] = [];
    for (const [feedId, video] of this.videos) {
      if (context === null || video.videoWidth === 0) continue;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        r += pixels[i] ?? 0;
        g += pixels[i + 1] ?? 0;
        b += pixels[i + 2] ?? 0;
      }
      const n = pixels.length / 4;
      feeds.push({
        feedId,
        display: displays.get(feedId),
        width: video.videoWidth,
        height: video.videoHeight,
        color: [Math.round(r / n), Math.round(g / n), Math.round(b / n)],
      });
    }
    return feeds;
  }

  /** Stops or restarts speaking (the tone), to make one person the active speaker. */
  speak(on: boolean): void {
    this.voice?.gain.setValueAtTime(on ? this.voiceLevel : 0, this.context.currentTime);
  }

  /** What was heard since `since` (epoch ms), or since joining. */
  recording(since?: number): PersonRecording {
    const rate = this.context.sampleRate;
    const skip = since === undefined ? 0 : Math.max(0, Math.round(((since - this.startedAt) / 1000) * rate));
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const pcm = new Int16Array(Math.max(0, total - skip));
    let position = 0;
    for (const chunk of this.chunks) {
      for (let i = 0; i < chunk.length; i++, position++) {
        if (position < skip) continue;
        pcm[position - skip] = Math.max(-32768, Math.min(32767, Math.round((chunk[i] ?? 0) * 32767)));
      }
    }
    const bytes = new Uint8Array(pcm.buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return {
      sampleRate: rate,
      pcmBase64: btoa(binary),
      startedAt: this.startedAt + (Math.min(skip, total) / rate) * 1000,
      feeds: [...this.feeds],
    };
  }

  async leave(): Promise<void> {
    await this.room?.leave();
    await this.context.close();
  }

  private record(samples: Float32Array): void {
    if (this.chunks.length === 0) this.startedAt = Date.now() - (samples.length / this.context.sampleRate) * 1000;
    this.chunks.push(samples);
  }
}

/** A camera of one colour, with a small moving square so every frame differs (encoders skip static input). */
function camera(color: readonly [number, number, number]): MediaStreamTrack | undefined {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 480;
  const context = canvas.getContext('2d');
  if (context === null) return undefined;
  let tick = 0;
  const draw = () => {
    context.fillStyle = `rgb(${color[0]}, ${color[1]}, ${color[2]})`;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = '#fff';
    context.fillRect((tick * 4) % (canvas.width - 8), 4, 8, 8);
    tick++;
  };
  draw();
  setInterval(draw, 1000 / 30);
  return canvas.captureStream(30).getVideoTracks()[0];
}

Object.assign(globalThis, { __person: new Person() });
document.title = 'roomline lab person (ready)';
