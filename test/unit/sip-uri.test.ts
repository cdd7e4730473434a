import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeParseDialRequest } from '../../contracts/dial-request.js';
import { PROXY_URI_PARAMS, parseSipUri } from '../../contracts/sip-uri.js';
import { BAD_SIP_URIS } from '../support/hostile-requests.js';

const request = (to: string) => ({ version: 1, to, room: { provider: 'janus', serverUrl: 'wss://janus.example.com/ws', roomId: 1 } });
const refusal = (uri: string) => {
  const parsed = parseSipUri(uri);
  return parsed.ok ? undefined : parsed.message;
};

/** Parts of SIP URIs a caller may legitimately write. */
const userPart = fc.oneof(
  fc.stringMatching(/^\+?[0-9]{3,15}$/),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9\-_.!~*'()]{0,30}$/),
  fc.stringMatching(/^[a-z]{1,8}%2[0-9A-F][a-z]{1,8}$/),
);
const hostPart = fc.oneof(
  fc.domain().filter((d) => !/\.[0-9]+$/.test(d)),
  fc.ipV4(),
  fc.ipV6().map((a) => `[${a}]`),
);
const validUri = fc
  .record({
    scheme: fc.constantFrom('sip', 'sips'),
    user: fc.option(userPart, { nil: undefined }),
    host: hostPart,
    port: fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
    transport: fc.option(fc.constantFrom('udp', 'tcp', 'tls', 'TCP', 'ws', 'wss', 'sctp'), { nil: undefined }),
    user_: fc.option(fc.constantFrom('phone', 'ip'), { nil: undefined }),
  })
  .map(({ scheme, user, host, port, transport, user_ }) =>
    `${scheme}:${user === undefined ? '' : `${user}@`}${host}${port === undefined ? '' : `:${port}`}${transport === undefined ? '' : `;transport=${transport}`}${user_ === undefined ? '' : `;user=${user_}`}`,
  )
  .filter((uri) => uri.length <= 256);

/** Ways to break a valid URI, each of which must be refused. */
const breakers: readonly [string, (uri: string) => string][] = [
  ['a maddr parameter', (u) => `${u};maddr=10.0.0.1`],
  ['URI headers', (u) => `${u}?Subject=x`],
  ['a header that adds a route', (u) => `${u}?Route=%3Csip:evil.example%3E`],
  ['an unknown parameter', (u) => `${u};lr`],
  ['a second transport', (u) => `${u};transport=udp;transport=tcp`],
  ['a CR/LF', (u) => u.replace(':', ':\r\n')],
  ['a NUL', (u) => `${u}\u0000`],
  ['a space', (u) => u.replace(':', ': ')],
  ['a non-ASCII letter', (u) => `${u.slice(0, 5)}é${u.slice(5)}`],
  ['a port of 0', (u) => `${u.replace(/;.*$/, '').replace(/:\d+$/, '')}:0`],
  ['a port above 65535', (u) => `${u.replace(/;.*$/, '').replace(/:\d+$/, '')}:65536`],
  ['a password', (u) => u.replace(/^(sips?:)/, '$1user:pw@').replace(/@([^@]*)@/, '@')],
  ['more than 256 characters', (u) => `${u};transport=${'t'.repeat(260)}`],
];

describe('SIP URIs from callers', () => {
  it.each([
    'sip:alice@pbx.example.com',
    'sip:+15551234567@trunk.example.com:5061;transport=tls;user=phone',
    'sips:bob@[2001:db8::1]:5061',
    'sip:127.0.0.1',
    'sip:probe@127.0.0.1:5090',
    "sip:o'brien(desk)@example.com",
    'sip:a%20b@example.com',
  ])('accepts %s', (uri) => {
    expect(refusal(uri)).toBeUndefined();
  });

  it.each([
    ['sip:a@b.example.com;maddr=10.0.0.1', 'must not carry the URI parameter "maddr" (allowed: transport, user)'],
    ['sip:alice@example.com?Subject=hi', 'must not carry URI headers'],
    ['sip:alice@example.com:0', 'port must be a number from 1 to 65535'],
    ['sip:alice@example.com:99999', 'port must be a number from 1 to 65535'],
    ['sip:alice:secret@example.com', 'must not carry a password'],
    ['sip:a&b=c@example.com', 'user part must not contain "&"'],
    ['sip:alice@example.com;transport=tcp;transport=udp', 'must not carry the URI parameter "transport" twice'],
    ['sip:alice@example.com;transport=pigeon', 'URI parameter "transport" must be one of: udp, tcp, tls, sctp, ws, wss'],
    ['sip:a%0d%0aVia@example.com', 'must not escape control characters'],
    ['sip:alice@256.1.1.1', 'invalid IPv4 address'],
    ['sip:alice@1.2.3', 'invalid IPv4 address'],
    ['sip:alice@[::1', 'without its closing "]"'],
    ['"Alice" <sip:alice@example.com>', 'must be a sip: or sips: URI'],
  ])('refuses %s, saying why', (uri, why) => {
    expect(refusal(uri)).toContain(why);
  });

  it('refuses every URI of the hostile list', () => {
    // Act
    const accepted = BAD_SIP_URIS.filter((uri) => refusal(uri) === undefined);

    // Assess
    expect(accepted).toEqual([]);
  });

  it('accepts generated URIs of the documented form and refuses each broken variant of them', () => {
    fc.assert(
      fc.property(validUri, fc.constantFrom(...breakers), (uri, [name, breakIt]) => {
        // Act
        const good = parseSipUri(uri);
        const broken = breakIt(uri);

        // Assess
        expect(good.ok, `${uri} should be accepted`).toBe(true);
        expect(refusal(broken), `${name}: ${JSON.stringify(broken)} should be refused`).toBeDefined();
      }),
      { numRuns: 1_000, seed: 4_242 },
    );
  });

  it('lets a trunk proxy carry lr, which a dial target may not', () => {
    // Act
    const proxy = parseSipUri('sip:sip.trunk.example.com:5060;lr;transport=tcp', PROXY_URI_PARAMS);
    const target = safeParseDialRequest(request('sip:sip.trunk.example.com:5060;lr'));

    // Assess
    expect(proxy).toMatchObject({ ok: true, uri: { host: 'sip.trunk.example.com', port: 5060, params: { lr: '', transport: 'tcp' } } });
    expect(!target.ok && target.reason).toContain('to: must not carry the URI parameter "lr"');
  });

  it('refuses an unsafe display name in from, and accepts a plain one', () => {
    // Prepare
    const withName = (displayName: string) => ({ ...request('sip:a@example.com'), from: { uri: 'sip:b@example.com', displayName } });

    // Act
    const quoted = safeParseDialRequest(withName('Evil" <sip:x@y>'));
    const newline = safeParseDialRequest(withName('Alice\r\nVia: x'));
    const bidi = safeParseDialRequest(withName('Alice\u202egnp.exe'));
    const plain = safeParseDialRequest(withName('Réunion hebdo 🎧'));

    // Assess
    expect(!quoted.ok && quoted.reason).toContain('from.displayName: must not contain quotes, backslashes or angle brackets');
    expect(!newline.ok && newline.reason).toContain('from.displayName: must not contain line breaks');
    expect(!bidi.ok && bidi.reason).toContain('from.displayName: must not contain line breaks, control characters');
    expect(plain.ok).toBe(true);
  });
});
