import { describe, expect, it } from 'vitest';
import { safeParseDialRequest } from '../../contracts/dial-request.js';
import { roomOrigins } from '../../contracts/rooms/index.js';
import { newQueuedRecord } from '../../worker/call-state.js';

const DAILY_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJyIjoic3RhbmR1cCJ9.c2VjcmV0LWRhaWx5LXRva2Vu';
const VONAGE_TOKEN = 'T1==cGFydG5lcl9pZD0xMjM0NTY3OCZzaWc9c2VjcmV0LXZvbmFnZS10b2tlbg==';
const daily = { provider: 'daily', url: 'https://acme.daily.co/standup', token: DAILY_TOKEN } as const;
const vonage = {
  provider: 'vonage',
  applicationId: '0f9c3a52-1b2e-4c3d-9e8f-7a6b5c4d3e2f',
  sessionId: '1_MX4xMjM0NTY3OH5-MTcwMDAwMDAwMDAwMH5hYmN-fg',
  token: VONAGE_TOKEN,
} as const;
const request = (room: unknown, media?: unknown) => ({ version: 1, to: 'sip:alice@pbx.example.com', room, ...(media === undefined ? {} : { media }) });

function reasonOf(input: unknown): string {
  const result = safeParseDialRequest(input);
  if (result.ok) throw new Error('the request was accepted');
  return result.reason;
}

describe('a Daily room in a dial request', () => {
  it('accepts a room URL on a Daily domain with its meeting token in its own field', () => {
    // Act
    const result = safeParseDialRequest(request(daily));

    // Assess
    expect(result.ok).toBe(true);
  });

  it.each([
    ['a token in the URL', 'https://acme.daily.co/standup?t=abc', 'the meeting token goes in "token"'],
    ['a host that is not Daily', 'https://acme.example.com/standup', 'must be a room on your Daily domain'],
    ['plain http', 'http://acme.daily.co/standup', 'must be an https:// URL'],
    ['no room name', 'https://acme.daily.co/', 'must name the room'],
  ])('refuses %s at the edge', (_what, url, message) => {
    // Act
    const reason = reasonOf(request({ ...daily, url }));

    // Assess
    expect(reason).toContain('room.url');
    expect(reason).toContain(message);
  });

  it('lets the page reach the room\'s domain, Daily\'s bundle and dispatch hosts (with daily-js\'s two fallback domains) and nothing more', () => {
    // Act
    const origins = roomOrigins({ ...daily });

    // Assess
    expect(origins).toEqual([
      'https://acme.daily.co',
      'https://c.daily.co',
      'https://gs.daily.co',
      'https://acme.dailywebrtc.com',
      'https://c.dailywebrtc.com',
      'https://gs.dailywebrtc.com',
      'https://acme.dailywebrtc.net',
      'https://c.dailywebrtc.net',
      'https://gs.dailywebrtc.net',
      'https://prod-ks.pluot.blue',
    ]);
  });

  it('keeps no meeting token in the call record', () => {
    // Prepare
    const parsed = safeParseDialRequest(request(daily));
    if (!parsed.ok) throw new Error(parsed.reason);

    // Act
    const record = newQueuedRecord({ ...parsed.request, callId: 'd1' }, new Date());

    // Assess
    expect(JSON.stringify(record)).not.toContain(DAILY_TOKEN);
    expect(record.request?.room).toEqual({ provider: 'daily', url: daily.url });
  });

  it('takes a split SIP picture of up to four tiles as custom tracks, and refuses more at the edge', () => {
    // Act
    const four = safeParseDialRequest(request(daily, { video: 'sendrecv', splitIncoming: { rows: 2, cols: 2 } }));
    const six = reasonOf(request(daily, { video: 'sendrecv', splitIncoming: { rows: 2, cols: 3 } }));

    // Assess
    expect(four.ok).toBe(true);
    expect(six).toContain('Daily rooms accept at most 4 extra feeds; this split has 6');
  });

  it.each([
    ['a name Daily reserves', ['screenVideo', 'b'], '"screenVideo" is a track name Daily reserves'],
    ['a name longer than 50 characters', ['x'.repeat(51), 'b'], 'at most 50 characters'],
    ['the same name twice', ['desk', 'desk'], 'tile name "desk" is used twice'],
  ])('refuses tiles with %s', (_what, names, message) => {
    // Act
    const reason = reasonOf(request(daily, { video: 'recvonly', splitIncoming: { rows: 1, cols: 2, names } }));

    // Assess
    expect(reason).toContain(message);
  });
});

describe('a Vonage Video session in a dial request', () => {
  it('accepts an application id, a session id and a token', () => {
    // Act
    const result = safeParseDialRequest(request(vonage));

    // Assess
    expect(result.ok).toBe(true);
  });

  it('refuses a session without a token, and an application id that is neither a UUID nor an API key', () => {
    // Act
    const { token: _token, ...tokenless } = vonage;
    const noToken = reasonOf(request(tokenless));
    const badApp = reasonOf(request({ ...vonage, applicationId: 'my-app' }));

    // Assess
    expect(noToken).toContain('room.token');
    expect(badApp).toContain('must be a Vonage application id (a UUID) or an OpenTok API key');
  });

  it('lets the page reach the SDK\'s config, API and logging services and nothing more', () => {
    // Act
    const origins = roomOrigins({ ...vonage });

    // Assess
    expect(origins).toEqual(['https://config.opentok.com', 'https://anvil.opentok.com', 'https://hlg.tokbox.com']);
  });

  it('keeps no token in the call record', () => {
    // Prepare
    const parsed = safeParseDialRequest(request(vonage));
    if (!parsed.ok) throw new Error(parsed.reason);

    // Act
    const record = newQueuedRecord({ ...parsed.request, callId: 'v1' }, new Date());

    // Assess
    expect(JSON.stringify(record)).not.toContain(VONAGE_TOKEN);
    expect(record.request?.room).toEqual({ provider: 'vonage', applicationId: vonage.applicationId, sessionId: vonage.sessionId });
  });

  it('refuses a split SIP picture of more than four tiles at the edge', () => {
    // Act
    const reason = reasonOf(request(vonage, { video: 'recvonly', splitIncoming: { rows: 3, cols: 3 } }));

    // Assess
    expect(reason).toContain('Vonage Video rooms accept at most 4 extra feeds; this split has 9');
  });
});
