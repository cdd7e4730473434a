import type { RoomJoin } from '../../../contracts/rooms/index.js';
import type { RoomAdapter } from '../../../bot-page/rooms/room-adapter.js';
import { createRoomAdapter } from '../../../bot-page/rooms/registry.js';
import { playMuted } from '../../../bot-page/media/play-muted.js';
import { camera } from './camera.js';
import { LabAudio, type ClickOptions, type ClicksPlayed, type Recording } from './lab-audio.js';

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
  /** Record what is heard (a measuring instrument; off for people who only fill a room). @default true */
  readonly record?: boolean;
}

/** A data message from another participant. */
export interface ReceivedMessage {
  readonly from: string;
  readonly text: string;
  /** When it arrived (epoch ms). */
  readonly at: number;
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

/** A participant joining or leaving, as this person saw it (epoch ms). */
export interface RoomChange {
  readonly change: 'joined' | 'left';
  readonly id: string;
  readonly display: string | undefined;
  readonly at: number;
}

class Person {
  private readonly audio = new LabAudio();
  private readonly changes: RoomChange[] = [];
  private room: RoomAdapter | undefined;
  private readonly audioFeeds = new Set<string>();
  private readonly videos = new Map<string, HTMLVideoElement>();
  private readonly messages: ReceivedMessage[] = [];

  async start(options: PersonOptions): Promise<{ selfId: string }> {
    await this.audio.start(options.toneHz, options.toneLevel ?? 0.25);
    if (options.record === false) this.audio.setRecording(false);

    const room = await createRoomAdapter(
      options.room,
      {
        participantJoined: (p) => this.changes.push({ change: 'joined', id: p.id, display: p.display, at: Date.now() }),
        participantLeft: (p) => this.changes.push({ change: 'left', id: p.id, display: p.display, at: Date.now() }),
        track: (feedId, track) => {
          if (track.kind === 'video') {
            this.videos.set(feedId, playMuted(track) as HTMLVideoElement);
            return;
          }
          this.audioFeeds.add(feedId);
          this.audio.hear(track);
        },
        trackEnded: () => undefined,
        activeSpeaker: () => undefined,
        reconnecting: () => undefined,
        lost: () => undefined,
        data: (from, text) => this.messages.push({ from, text, at: Date.now() }),
      },
      { iceServers: [], receiveVideo: true, receiveData: true },
    );
    this.room = room;
    const audio = this.audio.voiceTrack;
    const video = options.color === undefined ? undefined : camera(options.color);
    const joined = await room.join(options.display, {
      ...(audio === undefined ? {} : { audio }),
      ...(video === undefined ? {} : { video }),
    });
    await joined.published;
    return { selfId: joined.selfId };
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

  /** The other participants in the room. */
  participants(): { id: string; display?: string }[] {
    return [...(this.room?.participants() ?? [])];
  }

  /** Stops or restarts speaking (the tone), to make one person the active speaker. */
  speak(on: boolean): void {
    this.audio.speak(on);
  }

  /** Speaks a click train instead of the tone (delay measurements). */
  playClicks(options: ClickOptions): ClicksPlayed {
    return this.audio.playClicks(options);
  }

  /** When each click of the last train left the page (ask once it was played). */
  clicksPlayed(): ClicksPlayed {
    return this.audio.clicksPlayed();
  }

  /** What was heard since `since` (epoch ms), or all that is kept. */
  recording(since?: number): Recording {
    return this.audio.recording(since);
  }

  /** The data messages this person received from other participants, oldest first. */
  dataMessages(): ReceivedMessage[] {
    return [...this.messages];
  }

  /** Who joined and left the room since this person joined, in order. */
  roomChanges(): RoomChange[] {
    return [...this.changes];
  }

  /** The room feeds whose audio this person hears. */
  feeds(): string[] {
    return [...this.audioFeeds];
  }

  async leave(): Promise<void> {
    await this.room?.leave();
    await this.audio.close();
  }
}

Object.assign(globalThis, { __person: new Person() });
document.title = 'roomline lab person (ready)';
