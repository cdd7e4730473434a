import { describe, expect, it } from 'vitest';
import { roomOrigins } from '../../contracts/rooms/index.js';
import { TILES, assertBridgedBothWays, assertEndsWithTheRoom, assertRealSdkUnreachable, assertSplitRefused, useSdkRoomLab } from '../support/sdk-room-calls.js';

/**
 * Vonage Video sessions, proven as far as this machine allows. Vonage's SDK talks to Vonage's closed servers and cannot
 * connect from here, so the worker serves a test build of the real bot page in which @vonage/client-sdk-video is the
 * lab's typed fake (lab/fake-sdks/vonage.ts: the SDK's own types, its events in the order its code dispatches them,
 * another client with a 440 Hz tone and a coloured camera). Everything else is real: the worker, the queue and the
 * record, Chromium, the bot page, the Janus SIP leg to the lab's phone (baresip, H.264, sending a 2x2 composite,
 * 1000 Hz). The last test loads the real SDK in the real bot page with every origin refused.
 */
const APPLICATION_ID = '0f9c3a52-1b2e-4c3d-9e8f-7a6b5c4d3e2f';
const SESSION_ID = '1_MX4wZjljM2E1Mn5-MTgwMDAwMDAwMDAwMH5sYWItc2Vzc2lvbn5-fg';
const TOKEN = 'T1==cGFydG5lcl9pZD0wZjljM2E1MiZzaWc9bGFiLXZvbmFnZS1jbGllbnQtdG9rZW4=';
/** What ends the call when the fake disconnects the bot, and why a split of nine tiles is refused. */
const DISCONNECTED = 'the Vonage session disconnected the bot (forceDisconnected)';
const SPLIT_REFUSED = 'Vonage Video rooms accept at most 4 extra feeds; this split has 9';

const room = { provider: 'vonage', applicationId: APPLICATION_ID, sessionId: SESSION_ID, token: TOKEN } as const;
const vonage = useSdkRoomLab('vonage', { ...room, display: 'Phone' });

describe('a Vonage Video session (the SDK replaced by its typed fake) bridged to the lab\'s phone', () => {
  it('carries audio and video both ways, publishes the split SIP picture as one publisher per tile, and ends when the session empties', async () => {
    // Prepare, Act, and what every SDK room must show (sdk-room-calls.ts)
    const { fake, calls } = await assertBridgedBothWays(vonage, TOKEN, { participant: 'the other client', feed: 'publisher' });

    // Assess: what the SDK was given: the application and session, the token to connect() alone, no default UI anywhere
    expect(fake.join).toEqual({ provider: 'vonage', room: `${APPLICATION_ID}/${SESSION_ID}`, token: TOKEN, display: '' });
    expect(calls.slice(0, 2)).toEqual(['initSession', 'connect']);
    expect(calls).toContain('subscribe insertDefaultUI=false video=true');
    expect(calls).toContain('initPublisher Phone insertDefaultUI=false audio=true video=false');
    for (const tile of TILES) {
      expect(calls).toContain(`initPublisher ${tile} insertDefaultUI=false audio=false video=true`);
      expect(calls).toContain(`publish ${tile}`);
    }
  });

  it('ends the call when Vonage disconnects the bot from the session, with Vonage\'s reason', () => assertEndsWithTheRoom(vonage, DISCONNECTED));

  it('refuses at the edge a split picture of more tiles than a Vonage session takes, without connecting', () =>
    assertSplitRefused(vonage, { rows: 3, cols: 3 }, SPLIT_REFUSED, TOKEN));
});

describe('the real Vonage SDK in the real bot page, with every origin refused', () => {
  it('asks only for origins the Vonage contract declares, config before session, and fails clearly when Vonage cannot be reached', async () => {
    await assertRealSdkUnreachable(vonage.lab, room, { message: 'cannot connect to the Vonage session', token: TOKEN }, (requested) => {
      // the SDK's client-event logging may race ahead; the session's config is asked for before the session itself
      const config = requested.indexOf(`https://config.opentok.com/project/${APPLICATION_ID}/config.json`);
      const session = requested.findIndex((url) => url.startsWith(`https://anvil.opentok.com/session/${SESSION_ID}`));
      expect(config, JSON.stringify(requested)).toBeGreaterThanOrEqual(0);
      expect(session, JSON.stringify(requested)).toBeGreaterThan(config);
      for (const url of requested) expect(roomOrigins(room)).toContain(new URL(url).origin);
    });
  });
});
