import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HostAllowList, classifyAddress, egressIssues, egressPolicy } from '../../contracts/egress-policy.js';
import { refusedDestinations } from '../../worker/egress.js';

const room = (serverUrl: string) => ({ provider: 'janus' as const, serverUrl, roomId: 1 });
const any = HostAllowList.parse('*');

describe('host allow-lists', () => {
  it('let "*" reach public names and addresses only', () => {
    // Act
    const verdicts = Object.fromEntries(
      [
        'janus.example.com',
        '203.0.113.9',
        '8.8.8.8',
        '2606:4700::1111',
        '169.254.169.254',
        '169.254.170.2',
        '[fd00:ec2::254]',
        '127.0.0.1',
        '[::1]',
        '[::ffff:169.254.169.254]',
        '[64:ff9b::a9fe:a9fe]',
        '10.1.2.3',
        '172.20.0.1',
        '192.168.1.1',
        '100.100.100.200',
        '0.0.0.0',
        '224.0.0.1',
        '[fe80::1]',
        'localhost',
        'janus',
        'metadata.google.internal',
        'printer.local',
        'x.localhost',
      ].map((host) => [host, any.refusal(host) ?? 'allowed']),
    );

    // Assess
    expect(verdicts).toEqual({
      'janus.example.com': 'allowed',
      '203.0.113.9': 'allowed',
      '8.8.8.8': 'allowed',
      '2606:4700::1111': 'allowed',
      '169.254.169.254': '169.254.169.254 is a cloud metadata address, allowed only when listed as an address or range',
      '169.254.170.2': '169.254.170.2 is a cloud metadata address, allowed only when listed as an address or range',
      '[fd00:ec2::254]': 'fd00:ec2::254 is a cloud metadata address, allowed only when listed as an address or range',
      '127.0.0.1': '127.0.0.1 is a loopback address, allowed only when listed as an address or range',
      '[::1]': '::1 is a loopback address, allowed only when listed as an address or range',
      '[::ffff:169.254.169.254]': '::ffff:169.254.169.254 is a cloud metadata address, allowed only when listed as an address or range',
      '[64:ff9b::a9fe:a9fe]': '64:ff9b::a9fe:a9fe is a cloud metadata address, allowed only when listed as an address or range',
      '10.1.2.3': '10.1.2.3 is a private address, allowed only when listed as an address or range',
      '172.20.0.1': '172.20.0.1 is a private address, allowed only when listed as an address or range',
      '192.168.1.1': '192.168.1.1 is a private address, allowed only when listed as an address or range',
      '100.100.100.200': '100.100.100.200 is a carrier-grade NAT address, allowed only when listed as an address or range',
      '0.0.0.0': '0.0.0.0 is the unspecified address, allowed only when listed as an address or range',
      '224.0.0.1': '224.0.0.1 is a multicast address, allowed only when listed as an address or range',
      '[fe80::1]': 'fe80::1 is a link-local address, allowed only when listed as an address or range',
      localhost: 'localhost is a local or internal name, allowed only when listed by name',
      janus: 'janus is a local or internal name, allowed only when listed by name',
      'metadata.google.internal': 'metadata.google.internal is a local or internal name, allowed only when listed by name',
      'printer.local': 'printer.local is a local or internal name, allowed only when listed by name',
      'x.localhost': 'x.localhost is a local or internal name, allowed only when listed by name',
    });
  });

  it('refuses every loopback, private, link-local and unspecified IPv4 address under "*"', () => {
    const inRange = (first: number, second: [number, number]) =>
      fc.tuple(fc.constant(first), fc.integer({ min: second[0], max: second[1] }), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
    fc.assert(
      fc.property(
        fc.oneof(inRange(127, [0, 255]), inRange(10, [0, 255]), inRange(172, [16, 31]), inRange(192, [168, 168]), inRange(169, [254, 254]), inRange(0, [0, 255]), inRange(100, [64, 127])),
        (address) => {
          expect(any.refusal(address)).toMatch(/allowed only when listed/);
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });

  it('lets listed names, subdomains, addresses and ranges through, and only those', () => {
    // Prepare
    const list = HostAllowList.parse('janus.example.com, *.rooms.example.com, 10.77.0.1, fd00:1::/32, 192.168.0.0/16');

    // Act
    const allowed = ['janus.example.com', 'a.rooms.example.com', 'b.c.rooms.example.com', '10.77.0.1', '[fd00:1::5]', '192.168.44.1'].filter(
      (h) => list.refusal(h) === undefined,
    );
    const refused = ['example.com', 'rooms.example.com', 'evil-rooms.example.com', '10.77.0.2', '8.8.8.8', '[fd00:2::1]', 'localhost'].filter(
      (h) => list.refusal(h) !== undefined,
    );

    // Assess
    expect(allowed).toHaveLength(6);
    expect(refused).toHaveLength(7);
  });

  it('rejects a malformed entry, naming it', () => {
    expect(() => HostAllowList.parse('*.example.com, http://x')).toThrow('"http://x" is neither');
    expect(() => HostAllowList.parse('10.0.0.0/33')).toThrow('"10.0.0.0/33" has an invalid prefix length');
  });

  it('classifies IPv4 carried in IPv6 as the IPv4 address it is', () => {
    expect(classifyAddress('::ffff:127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::ffff:8.8.8.8')).toBe('public');
  });
});

describe('a dial request\'s destinations', () => {
  const policy = egressPolicy('10.77.0.1', '127.0.0.1');

  it('are refused where the room server or the SIP host is not allowed, naming the variable', () => {
    // Act
    const issues = egressIssues({ to: 'sip:probe@169.254.169.254', room: room('ws://127.0.0.1:8188/') }, policy);

    // Assess
    expect(issues).toEqual([
      { path: ['room'], message: 'room server ws://127.0.0.1:8188: 127.0.0.1 is a loopback address, allowed only when listed as an address or range (ROOMLINE_ROOM_HOSTS)' },
      { path: ['to'], message: 'SIP destination 169.254.169.254 is a cloud metadata address, allowed only when listed as an address or range (ROOMLINE_SIP_HOSTS)' },
    ]);
  });

  it('leave the SIP target of a trunk call to the trunk\'s proxy', () => {
    expect(egressIssues({ to: 'sip:+15551234567@10.9.9.9', trunk: 'acme', room: room('ws://10.77.0.1:8188/') }, policy)).toEqual([]);
  });

  it('refuse a SIP name allowed only by "*" that resolves to a private or metadata address, before anything dials', async () => {
    // Prepare
    const open = egressPolicy('*', '*');
    const lookup = async (host: string) => (host === 'rebind.example.com' ? ['203.0.113.5', '169.254.169.254'] : ['203.0.113.7']);

    // Act
    const rebinding = await refusedDestinations({ to: 'sip:a@rebind.example.com', room: room('wss://janus.example.com/') }, open, lookup);
    const fine = await refusedDestinations({ to: 'sip:a@pbx.example.com', room: room('wss://janus.example.com/') }, open, lookup);

    // Assess
    expect(rebinding).toBe(
      'to: SIP destination rebind.example.com resolves to 169.254.169.254 is a cloud metadata address, allowed only when listed as an address or range (ROOMLINE_SIP_HOSTS)',
    );
    expect(fine).toBeUndefined();
  });

  it('trust the addresses of a SIP name the list names itself', async () => {
    // Prepare
    const own = egressPolicy('*', 'pbx.corp.example.com');

    // Act
    const refused = await refusedDestinations({ to: 'sip:a@pbx.corp.example.com', room: room('wss://janus.example.com/') }, own, async () => ['10.1.2.3']);

    // Assess
    expect(refused).toBeUndefined();
  });
});
