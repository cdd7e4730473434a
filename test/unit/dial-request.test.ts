import { describe, expect, it } from 'vitest';
import { parseDialRequest, safeParseDialRequest, WARM_UP_DIAL_REQUEST } from '../../contracts/dial-request.js';
import { RoomlineError } from '../../contracts/errors.js';

const minimal = {
  version: 1,
  to: 'sip:alice@pbx.example.com',
  room: { provider: 'janus', serverUrl: 'wss://janus.example.com/ws', roomId: 1234 },
};

function reasonFor(input: unknown): string {
  const result = safeParseDialRequest(input);
  if (result.ok) throw new Error('expected the request to be invalid');
  return result.reason;
}

describe('dial request v1', () => {
  it('takes the warm-up request (its parse before the first message runs the whole schema, not an error path)', () => {
    const request = parseDialRequest(WARM_UP_DIAL_REQUEST);

    expect(request.room.provider).toBe('janus');
    expect(request.metadata).toEqual({ warm: 'up' });
  });

  it('accepts a minimal request and fills in every documented default', () => {
    const request = parseDialRequest(minimal);

    expect(request.media).toEqual({
      audio: true,
      video: 'off',
      sipVideoCodec: 'any',
      layout: 'active-speaker',
      width: 640,
      height: 480,
      fps: 30,
    });
    expect(request.limits).toEqual({ ringTimeoutS: 45, maxDurationS: 14_400, emptyRoomTimeoutS: 60 });
    expect(request.callId).toBeUndefined();
  });

  it('accepts a full request with caller identity, X- headers, pin, limits and metadata', () => {
    const request = parseDialRequest({
      ...minimal,
      callId: 'meeting-42:call-1',
      to: 'sips:+4930123456@trunk.example.com:5061;transport=tls',
      from: { uri: 'sip:meeting@example.com', displayName: 'Weekly sync' },
      trunk: 'carrier-a',
      headers: { 'X-Meeting-Id': '42', 'X-Tenant': 'acme' },
      room: { ...minimal.room, pin: 'secret', display: 'Front desk phone' },
      media: { video: 'sendrecv', sipVideoCodec: 'H264', splitIncoming: { rows: 2, cols: 2 } },
      limits: { ringTimeoutS: 30, maxDurationS: 600 },
      metadata: { tenant: 'acme' },
    });

    expect(request.headers).toEqual({ 'X-Meeting-Id': '42', 'X-Tenant': 'acme' });
    expect(request.media.splitIncoming).toEqual({ rows: 2, cols: 2 });
    expect(request.limits.emptyRoomTimeoutS).toBe(60);
  });

  it.each([
    ['a tel: URI as target', { ...minimal, to: 'tel:+4930123' }, 'to: must be a sip: or sips: URI'],
    ['a display name in the target', { ...minimal, to: '"Alice" <sip:alice@example.com>' }, 'to: must be a sip: or sips: URI'],
    ['a header that is not X-', { ...minimal, headers: { 'P-Asserted-Identity': 'x' } }, 'only X- headers may be set'],
    ['a header value with a line break', { ...minimal, headers: { 'X-A': 'a\r\nVia: evil' } }, 'must not contain line breaks'],
    ['an unknown room provider', { ...minimal, room: { provider: 'zoom', serverUrl: 'wss://x', roomId: 1 } }, 'provider must be one of: janus'],
    ['an http room URL', { ...minimal, room: { ...minimal.room, serverUrl: 'https://janus.example.com' } }, 'must be a ws:// or wss:// URL'],
    ['credentials in the room URL', { ...minimal, room: { ...minimal.room, serverUrl: 'wss://u:p@janus.example.com' } }, 'must not carry credentials'],
    ['version 2', { ...minimal, version: 2 }, 'version: must be 1'],
    ['a callId with spaces', { ...minimal, callId: 'a b' }, 'callId: must be 1-128 characters'],
    ['neither audio nor video', { ...minimal, media: { audio: false } }, 'at least one of audio or video must be on'],
    ['a ring timeout of zero', { ...minimal, limits: { ringTimeoutS: 0 } }, 'limits.ringTimeoutS'],
    ['an unknown field', { ...minimal, priority: 'high' }, 'priority'],
    ['a tile outside the picture', { ...minimal, media: { splitIncoming: { tiles: [{ x: 0.6, y: 0, width: 0.5, height: 1 }] } } }, 'tile must lie inside the picture'],
  ])('rejects %s with a readable reason', (_name, input, expected) => {
    expect(reasonFor(input)).toContain(expected);
  });

  it('lists every problem of a request at once, each with its path', () => {
    const reason = reasonFor({ version: 1, to: 'mailto:x', room: {} });

    expect(reason).toContain('to: must be a sip: or sips: URI');
    expect(reason).toContain('room');
  });

  it('throws a RoomlineError with code INVALID_REQUEST, not retryable, the caller at fault', () => {
    const error = (() => {
      try {
        parseDialRequest({ ...minimal, to: 'nonsense' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(RoomlineError);
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', retryable: false, fault: 'caller' });
    expect((error as Error).message).toMatch(/^invalid dial request: to: /);
  });

  it('keeps the callId of an invalid request so its failure can be recorded under it', () => {
    const result = safeParseDialRequest({ ...minimal, callId: 'keep-me', to: 'tel:1' });

    expect(result).toMatchObject({ ok: false, callId: 'keep-me' });
  });

  it('takes the SIP leg as a telephone: DTMF, SRTP, codecs and transfers, with documented defaults', () => {
    const defaults = parseDialRequest(minimal).sip;
    const full = parseDialRequest({
      ...minimal,
      sip: { dtmf: 'info', dtmfAfterAnswer: ',,1234#', srtp: 'mandatory', audioCodecs: ['PCMU', 'PCMA'], transfer: 'decline', dtmfToRoom: true },
    }).sip;

    expect(defaults).toEqual({ transfer: 'follow', dtmfToRoom: false });
    expect(full).toEqual({ dtmf: 'info', dtmfAfterAnswer: ',,1234#', srtp: 'mandatory', audioCodecs: ['PCMU', 'PCMA'], transfer: 'decline', dtmfToRoom: true });
  });

  it.each([
    ['digits that are not DTMF', { dtmfAfterAnswer: '12x' }, 'sip.dtmfAfterAnswer: must be DTMF digits'],
    ['only pauses', { dtmfAfterAnswer: ',,,' }, 'sip.dtmfAfterAnswer: must contain at least one digit'],
    ['an unknown codec', { audioCodecs: ['GSM'] }, 'sip.audioCodecs.0: Invalid option'],
    ['a codec twice', { audioCodecs: ['PCMU', 'PCMU'] }, 'sip.audioCodecs: must not name a codec twice'],
    ['an unknown SRTP mode', { srtp: 'dtls' }, 'sip.srtp: Invalid option'],
  ])('refuses %s in the SIP options', (_name, sip, message) => {
    expect(reasonFor({ ...minimal, sip })).toContain(message);
  });
});
