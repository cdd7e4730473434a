import { describe, expect, it } from 'vitest';
import { safeParseDialRequest } from '../../contracts/dial-request.js';
import {
  ROOM_PROVIDER_NAMES,
  ROOM_PROVIDERS,
  capabilityIssues,
  redactRoom,
  roomOrigins,
  type RoomCapabilities,
} from '../../contracts/rooms/index.js';
import { mediaSchema } from '../../contracts/dial-request.js';
import { newQueuedRecord } from '../../worker/call-state.js';

const janus = { provider: 'janus', serverUrl: 'wss://janus.example.com:8989/ws', roomId: 1234, pin: 'pin-1234' } as const;
const request = { version: 1, to: 'sip:alice@pbx.example.com', room: janus };

describe('the room-provider registry', () => {
  it('refuses an unknown provider naming every provider the registry lists', () => {
    // Act
    const result = safeParseDialRequest({ ...request, room: { provider: 'zoom', meeting: 1 } });

    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(`room.provider: provider must be one of: ${ROOM_PROVIDER_NAMES.join(', ')}`);
  });

  it('gives every provider a title, capabilities and a schema for its own name', () => {
    for (const [name, provider] of Object.entries(ROOM_PROVIDERS)) {
      expect(provider.provider).toBe(name);
      expect(provider.title.length).toBeGreaterThan(0);
      expect(provider.capabilities.maxExtraFeeds).toBeGreaterThanOrEqual(0);
    }
  });

  it('lets the bot page reach the Janus room server\'s origin and nothing more', () => {
    // Act
    const origins = roomOrigins(janus);

    // Assess
    expect(origins).toEqual(['wss://janus.example.com:8989']);
  });

  it('keeps no room pin in the call record a client writes', () => {
    // Prepare
    const parsed = safeParseDialRequest(request);
    if (!parsed.ok) throw new Error(parsed.reason);

    // Act
    const record = newQueuedRecord({ ...parsed.request, callId: 'c1' }, new Date());

    // Assess
    expect(JSON.stringify(record)).not.toContain('pin-1234');
    expect(record.request?.room).toEqual({ provider: 'janus', serverUrl: janus.serverUrl, roomId: 1234 });
    expect(redactRoom(janus)).not.toHaveProperty('pin');
  });
});

describe('what a request asks of its room', () => {
  const none: RoomCapabilities = { serverMixedAudio: true, activeSpeaker: true, video: false, extraFeeds: 'none', maxExtraFeeds: 0, dataMessages: false, encodedForwarding: false };
  const media = (input: unknown) => mediaSchema.parse(input);

  it('refuses a split picture where the provider accepts no extra feeds, and video where it has none', () => {
    // Act
    const issues = capabilityIssues('Audio-only', none, media({ video: 'recvonly', splitIncoming: { rows: 1, cols: 2 } }));

    // Assess
    expect(issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'media.video: Audio-only rooms carry no video here: use "off"',
      'media.splitIncoming: Audio-only rooms accept no extra feeds: a split picture cannot be published',
    ]);
  });

  it('refuses more tiles than the provider takes extra feeds', () => {
    // Act
    const issues = capabilityIssues('Small', { ...none, video: true, extraFeeds: 'feeds', maxExtraFeeds: 2 }, media({ video: 'sendrecv', splitIncoming: { rows: 2, cols: 2 } }));

    // Assess
    expect(issues).toEqual([{ path: ['media', 'splitIncoming'], message: 'Small rooms accept at most 2 extra feeds; this split has 4' }]);
  });

  it('refuses a split picture while no video comes from the SIP peer, as INVALID_REQUEST at the edge', () => {
    // Act
    const result = safeParseDialRequest({ ...request, media: { video: 'sendonly', splitIncoming: { rows: 2, cols: 2 } } });

    // Assess
    expect(!result.ok && result.reason).toContain('media.splitIncoming: needs video from the SIP peer');
  });
});
