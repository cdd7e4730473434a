import { playMuted } from '../../bot-page/media/play-muted.js';
import { camera } from '../pages/person/camera.js';
import { LabAudio } from '../pages/person/lab-audio.js';
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
 * camera, as the lab's room person has), what the bot publishes (heard and looked at as that participant would), the
 * SDK calls the bot made, and the lab's control channel (lab/fake-sdks/control.ts).
 */
export class FakeRoom {
  readonly calls: string[] = [];
  private readonly audio = new LabAudio();
  private readonly heard = new Set<MediaStreamTrack>();
  private readonly videos = new Map<string, { track: MediaStreamTrack; element: HTMLVideoElement }>();
  private voiceTrack: MediaStreamTrack | undefined;
  private cameraTrack: MediaStreamTrack | undefined;

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
    room.voiceTrack = room.audio.voiceTrack;
    room.cameraTrack = camera(FAKE_PARTICIPANT.color);
    socket.onmessage = (event: MessageEvent<string>) => void room.onCommand(JSON.parse(event.data) as FakeLabMessage, side);
    room.send({ type: 'joined', join });
    return room;
  }

  /** The remote participant's microphone: a steady tone. */
  get voice(): MediaStreamTrack {
    if (this.voiceTrack === undefined) throw new Error('the fake participant has no voice');
    return this.voiceTrack;
  }

  /** The remote participant's camera: one colour. */
  get camera(): MediaStreamTrack {
    if (this.cameraTrack === undefined) throw new Error('the fake participant has no camera');
    return this.cameraTrack;
  }

  /** Notes an SDK call of the bot (`name`), in order. */
  call(name: string): void {
    this.calls.push(name);
  }

  /** The bot publishes `track` as its microphone from now on: the remote participant hears it. */
  publishAudio(track: MediaStreamTrack): void {
    if (this.heard.has(track)) return;
    this.heard.add(track);
    this.audio.hear(track);
  }

  /** The bot publishes `track` as the video named `name` (or stops publishing it). */
  publishVideo(name: string, track: MediaStreamTrack | undefined): void {
    this.videos.get(name)?.element.remove();
    this.videos.delete(name);
    if (track !== undefined) this.videos.set(name, { track, element: playMuted(track) as HTMLVideoElement });
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
        this.voiceTrack?.stop();
        this.cameraTrack?.stop();
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
    for (const [name, { track, element }] of this.videos) {
      if (track.readyState === 'ended') continue;
      const deadline = performance.now() + 3_000;
      while (element.videoWidth === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (element.videoWidth === 0) {
        measured.push({ name, width: 0, height: 0, color: [0, 0, 0] });
        continue;
      }
      context.drawImage(element, 0, 0, canvas.width, canvas.height);
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
