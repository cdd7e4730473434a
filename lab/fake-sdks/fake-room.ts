import { playMuted } from '../../bot-page/media/play-muted.js';
import { camera } from '../pages/person/camera.js';
import { LabAudio } from '../pages/person/lab-audio.js';
import { LoopbackMedia } from './loopback-media.js';
import {
  FAKE_PARTICIPANT,
  FAKE_SDK_CONTROL_PORT,
  type FakeCommand,
  type FakeCommandResults,
  type FakeJoin,
  type FakeLabMessage,
  type FakePageMessage,
  type PublishedVideo,
} from './protocol.js';

/** What the provider's side does when the lab asks (each fake SDK emits its own events, in its SDK's order). */
export interface FakeProviderSide {
  participantLeaves(): void;
  meetingEnds(): void;
}

/**
 * The provider's side of a fake room, inside the bot page: the remote participant's media (a tone and a coloured
 * camera, as the lab's room person has), carried to the SDK's side over WebRTC as a media server would
 * (loopback-media.ts); what the bot publishes, received over WebRTC and heard and looked at as that participant would;
 * the SDK calls the bot made; and the lab's control channel (lab/fake-sdks/control.ts).
 */
export class FakeRoom {
  readonly calls: string[] = [];
  private readonly audio = new LabAudio();
  private readonly media = new LoopbackMedia();
  private readonly heard = new Set<MediaStreamTrack>();
  /** What the participant receives of the bot's videos, by name (decoded only while looked at). */
  private readonly videos = new Map<string, MediaStreamTrack>();
  /** The participant's own tracks (what it sends), and as the SDK receives them. */
  private sources: MediaStreamTrack[] = [];
  private received = new Map<string, MediaStreamTrack>();

  private constructor(private readonly socket: WebSocket) {}

  /** Opens the lab's control channel, starts the remote participant's media and reports what the SDK was given. */
  static async open(join: FakeJoin, side: FakeProviderSide): Promise<FakeRoom> {
    const socket = new WebSocket(`ws://127.0.0.1:${FAKE_SDK_CONTROL_PORT}/`);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error('the fake SDK cannot reach the lab\'s control channel'));
    });
    const room = new FakeRoom(socket);
    await room.audio.start(FAKE_PARTICIPANT.toneHz);
    const voice = room.audio.voiceTrack;
    // a small camera: the bot page carries the whole fake room's media besides its own work
    const picture = camera(FAKE_PARTICIPANT.color, { width: 320, height: 240, fps: 15 });
    if (voice === undefined || picture === undefined) throw new Error('the fake participant has no tone or camera');
    room.sources = [voice, picture];
    room.received = await room.media.receive({ voice, camera: picture });
    socket.onmessage = (event: MessageEvent<string>) => void room.onCommand(JSON.parse(event.data) as FakeLabMessage, side);
    room.send({ type: 'joined', join });
    return room;
  }

  /** The remote participant's microphone (a steady tone) as the SDK receives it: a remote WebRTC track. */
  get voice(): MediaStreamTrack {
    return this.receivedTrack('voice');
  }

  /** The remote participant's camera (one colour) as the SDK receives it: a remote WebRTC track. */
  get camera(): MediaStreamTrack {
    return this.receivedTrack('camera');
  }

  /** The SDK's own peer connection (for a fake that hands it out, as an SDK's statistics do). */
  get connection(): RTCPeerConnection {
    return this.media.sdk;
  }

  /** The bot left the fake room: its media stops (the control channel stays, for the lab's questions). */
  close(): void {
    this.media.close();
  }

  /** Notes an SDK call of the bot (`name`), in order. */
  call(name: string): void {
    this.calls.push(name);
  }

  /** The bot publishes `track` as its microphone (`name`) from now on: the remote participant hears it. */
  publishAudio(track: MediaStreamTrack, name = 'microphone'): void {
    void this.media.send(name, track).then((received) => {
      if (received === undefined || this.heard.has(received)) return;
      this.heard.add(received);
      this.audio.hear(received);
    });
  }

  /** The bot publishes `track` as the video named `name` (or stops publishing it): the participant sees it. */
  publishVideo(name: string, track: MediaStreamTrack | undefined): void {
    void this.media.send(name, track ?? null).then((received) => {
      if (track === undefined || received === undefined) this.videos.delete(name);
      else this.videos.set(name, received);
    });
  }

  private receivedTrack(name: string): MediaStreamTrack {
    const track = this.received.get(name);
    if (track === undefined) throw new Error(`the fake participant sends no ${name}`);
    return track;
  }

  private send(message: FakePageMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private async onCommand(message: FakeLabMessage, side: FakeProviderSide): Promise<void> {
    try {
      const result = await this.run(message.command, side);
      this.send({ type: 'reply', id: message.id, result });
    } catch (error) {
      this.send({ type: 'reply', id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
  }

  private async run(command: FakeCommand, side: FakeProviderSide): Promise<FakeCommandResults[FakeCommand['kind']]> {
    switch (command.kind) {
      case 'participant-leaves':
        for (const source of this.sources) source.stop();
        side.participantLeaves();
        return null;
      case 'meeting-ends':
        side.meetingEnds();
        return null;
      case 'heard':
        return this.audio.recording(command.since);
      case 'videos':
        return this.measureVideos();
      case 'calls':
        return [...this.calls];
      default:
        return command satisfies never;
    }
  }

  /** Each published video as the remote participant would see it now: size and mean colour. */
  private async measureVideos(): Promise<PublishedVideo[]> {
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (context === null) throw new Error('no 2d canvas');
    const measured: PublishedVideo[] = [];
    for (const [name, track] of this.videos) {
      if (track.readyState === 'ended') continue;
      const element = playMuted(track) as HTMLVideoElement;
      const deadline = performance.now() + 3_000;
      while (element.videoWidth === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (element.videoWidth === 0) {
        element.remove();
        measured.push({ name, width: 0, height: 0, color: [0, 0, 0] });
        continue;
      }
      context.drawImage(element, 0, 0, canvas.width, canvas.height);
      element.remove();
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
      measured.push({
        name,
        width: element.videoWidth,
        height: element.videoHeight,
        color: [Math.round(r / n), Math.round(g / n), Math.round(b / n)],
      });
    }
    return measured;
  }
}
