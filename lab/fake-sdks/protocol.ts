import type { Recording } from '../pages/person/lab-audio.js';

/**
 * The lab's control channel to the typed fakes of the closed CPaaS SDKs (Daily, Vonage). The fakes run inside the real
 * bot page (a test build where the SDK module is the fake, lab/fake-sdks/build.ts); each connects here when the bot
 * joins, reports what the SDK was given, and lets the test act as the provider's side of the call: a remote
 * participant with a tone and a coloured camera, who can leave, and a meeting that can end.
 */

/** Port of the control WebSocket inside the lab's namespace (each lab has its own namespace). */
export const FAKE_SDK_CONTROL_PORT = 8091;

/** The remote participant each fake room has. */
export const FAKE_PARTICIPANT = {
  display: 'Fake Alice',
  toneHz: 440,
  color: [200, 0, 200] as const,
} as const;

export type FakeProvider = 'daily' | 'vonage';

/** What the SDK was given when the bot joined: what the provider's servers would have received. */
export interface FakeJoin {
  readonly provider: FakeProvider;
  /** Daily: the room URL; Vonage: `<application id>/<session id>`. */
  readonly room: string;
  /** The token the SDK was given, in its own field (never part of `room`). */
  readonly token: string | undefined;
  /** The bot's name in the room. */
  readonly display: string;
}

/** A video track the bot publishes (its camera, a custom track, an extra publisher), as the fake sees it. */
export interface PublishedVideo {
  /** Daily: "camera" or the custom track's name; Vonage: the publisher's name. */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** Mean colour of the picture now (RGB 0..255). */
  readonly color: readonly [number, number, number];
}

/** What the test asks of a fake room. */
export type FakeCommand =
  /** The remote participant leaves (its tracks stop, then it is gone). */
  | { readonly kind: 'participant-leaves' }
  /** The meeting ends for everyone (the provider ends the bot's session). */
  | { readonly kind: 'meeting-ends' }
  /** What the remote participant heard of the bot's microphone since `since` (epoch ms). */
  | { readonly kind: 'heard'; readonly since: number }
  /** The video tracks the bot publishes now. */
  | { readonly kind: 'videos' }
  /** The SDK calls the bot made, in order (`createCallObject`, `join`, `startCustomTrack`, ...). */
  | { readonly kind: 'calls' };

export interface FakeCommandResults {
  readonly 'participant-leaves': null;
  readonly 'meeting-ends': null;
  readonly heard: Recording;
  readonly videos: readonly PublishedVideo[];
  readonly calls: readonly string[];
}

/** Page → lab. */
export type FakePageMessage =
  | { readonly type: 'joined'; readonly join: FakeJoin }
  | { readonly type: 'reply'; readonly id: number; readonly result?: unknown; readonly error?: string };

/** Lab → page. */
export interface FakeLabMessage {
  readonly type: 'command';
  readonly id: number;
  readonly command: FakeCommand;
}
