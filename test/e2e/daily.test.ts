import { describe, expect, it } from 'vitest';
import { roomOrigins } from '../../contracts/rooms/index.js';
import { checkRoom } from '../../lab/smoke.js';
import { TILES, assertBridgedBothWays, assertEndsWithTheRoom, assertRealSdkUnreachable, assertSplitRefused, useSdkRoomLab } from '../support/sdk-room-calls.js';

/**
 * Daily rooms, proven as far as this machine allows. Daily's closed call machine is downloaded from Daily's servers at
 * join and cannot run here, so the worker serves a test build of the real bot page in which daily-js is the lab's typed
 * fake (lab/fake-sdks/daily.ts: daily-js's own types, its documented events in their order, a remote participant with a
 * 440 Hz tone and a coloured camera). Everything else is real: the worker, the queue and the record, Chromium, the
 * bot page, the Janus SIP leg to the lab's phone (baresip, H.264, sending a 2x2 composite, 1000 Hz). The last test
 * loads the real daily-js in the real bot page with every origin refused.
 */
const ROOM_URL = 'https://roomline-lab.daily.co/bridge-test';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJyIjoiYnJpZGdlLXRlc3QifQ.bGFiLW1lZXRpbmctdG9rZW4tZGFpbHk';
/** What ends the call when the meeting ends (the fake's `exp-room` error), and why a split of six tiles is refused. */
const MEETING_ENDED = 'Daily ended the call for the bot: exp-room: Meeting has ended';
const SPLIT_REFUSED = 'Daily rooms accept at most 4 extra feeds; this split has 6';

const daily = useSdkRoomLab('daily', { provider: 'daily', url: ROOM_URL, token: TOKEN, display: 'Phone' });

describe('a Daily room (daily-js replaced by its typed fake) bridged to the lab\'s phone', () => {
  it('carries audio and video both ways, publishes the split SIP picture as custom tracks, and ends when the room empties', async () => {
    // Prepare, Act, and what every SDK room must show (sdk-room-calls.ts)
    const { fake, calls } = await assertBridgedBothWays(daily, TOKEN, { participant: 'the participant', feed: 'custom track' });

    // Assess: what daily-js was given: the room URL, the token in its own field, the bot's own subscriptions
    expect(fake.join).toEqual({ provider: 'daily', room: ROOM_URL, token: TOKEN, display: 'Phone' });
    expect(calls.slice(0, 2)).toEqual(['createCallObject subscribeToTracksAutomatically=false', 'join']);
    expect(calls).toContain('updateParticipant {"audio":true,"screenAudio":true,"video":true,"screenVideo":false}');
    expect(calls.filter((c) => c.startsWith('startCustomTrack ')).sort()).toEqual(TILES.map((t) => `startCustomTrack ${t}`).sort());
  });

  it('ends the call when the Daily meeting ends, with Daily\'s reason', () => assertEndsWithTheRoom(daily, MEETING_ENDED));

  it('refuses at the edge a split picture of more tiles than a Daily room takes, without joining', () =>
    assertSplitRefused(daily, { rows: 2, cols: 3 }, SPLIT_REFUSED, TOKEN));
});

describe('the real daily-js in the real bot page, with every origin refused', () => {
  it('asks for its call machine on an origin the Daily contract declares, and fails clearly when Daily cannot be reached', async () => {
    const room = { provider: 'daily', url: ROOM_URL, token: TOKEN } as const;
    await assertRealSdkUnreachable(daily.lab, room, { message: 'cannot join the Daily room', token: TOKEN }, (requested) => {
      const bundles = requested.filter((url) => url.includes('/call-machine/'));
      expect(bundles.length, `the page asked for ${JSON.stringify(requested)}`).toBeGreaterThan(0);
      expect(bundles[0]).toMatch(/^https:\/\/c\.daily\.co\/call-machine\/versioned\/[\d.]+\/static\/call-machine-object-bundle\.js$/);
      for (const url of bundles) expect(roomOrigins(room)).toContain(new URL(url).origin);
    });
  });
});

describe('the live smoke command\'s checks, on a room of the lab\'s own', () => {
  it('pass on the lab\'s Janus room, so a failure with a real account points at the account or the provider', async () => {
    // Prepare
    const lab = daily.lab;
    const lines: string[] = [];

    // Act
    const code = await checkRoom(
      { room: { ...lab.endpoints.room, display: 'Roomline smoke bot' }, sip: undefined, secrets: [] },
      { netns: lab.netns.name, out: (line) => lines.push(line) },
    );

    // Assess
    expect(code, lines.join('\n')).toBe(0);
    expect(lines.filter((l) => l.startsWith('  [ok]')).map((l) => l.replace(/:.*$/, ''))).toEqual([
      '  [ok] the bot joins the room',
      '  [ok] the bot sees the smoke participant join (presence)',
      '  [ok] the participant\'s audio reaches the bot',
      '  [ok] the participant\'s camera reaches the bot',
      '  [ok] the bot publishes its audio',
      '  [ok] the participant receives the bot\'s audio track',
    ]);
    expect(lines.at(-1)).toBe('RESULT: 6 of 6 checks passed');
  });
});
