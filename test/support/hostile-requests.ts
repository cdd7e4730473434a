import fc from 'fast-check';
import { LAB_JANUS_IP } from '../../lab/netns.js';

/**
 * A generated corpus of malformed and hostile dial requests, as raw message bodies (what an attacker with queue
 * access, or a careless caller, could send). Every case says which field the refusal must name. Shared by the unit,
 * integration and end-to-end tests, so the client, the CLI and a real worker face the same corpus.
 *
 * The base request is the lab's: its room server (10.77.0.1) and SIP target (127.0.0.1) are on the lab's allow-lists;
 * `forbidden-host` cases name hosts those lists leave out.
 */

export const HOSTILE_KINDS = [
  'broken-json',
  'wrong-type',
  'missing-field',
  'unknown-field',
  'huge-value',
  'prototype-key',
  'control-char',
  'bad-uri',
  'bad-room-url',
  'forbidden-host',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

export interface HostileCase {
  readonly kind: HostileKind;
  /** What it is, for failure messages. */
  readonly label: string;
  /** The message body. */
  readonly body: string;
  /**
   * The field the refusal must name (`(request)` for the whole request), as it appears before ": " in the reason;
   * `json` when the body is not JSON at all.
   */
  readonly expectPath: string;
  /** The callId a worker can record the failure under (undefined: it must use the message id). */
  readonly callId: string | undefined;
  /** Refused only by an egress policy (the lab's allow-lists), not by the schema alone. */
  readonly needsPolicy: boolean;
}

export { LAB_ROOM_HOSTS, LAB_SIP_HOSTS } from '../../lab/netns.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

/** A valid request in the shape of the lab's; every case starts from one. */
export function baseRequest(callId: string): { [key: string]: Json } {
  return {
    version: 1,
    callId,
    to: 'sip:probe@127.0.0.1:5090',
    from: { uri: 'sip:meeting@127.0.0.1', displayName: 'Roomline lab' },
    headers: { 'X-Ticket': '42' },
    room: { provider: 'janus', serverUrl: `ws://${LAB_JANUS_IP}:8188/`, roomId: 1234, display: 'Phone', pin: '2468' },
    media: { audio: true, video: 'off' },
    limits: { ringTimeoutS: 20, maxDurationS: 60, emptyRoomTimeoutS: 30 },
    metadata: { tenant: 'acme' },
  };
}

const STRING_FIELDS: readonly Path[] = [
  ['callId'],
  ['to'],
  ['from', 'uri'],
  ['from', 'displayName'],
  ['headers', 'X-Ticket'],
  ['room', 'serverUrl'],
  ['room', 'pin'],
  ['room', 'display'],
  ['metadata', 'tenant'],
];
/** Fields and the JSON types they accept. */
const TYPED_FIELDS: readonly { path: Path; accepts: readonly string[] }[] = [
  { path: ['version'], accepts: ['number'] },
  { path: ['callId'], accepts: ['string'] },
  { path: ['to'], accepts: ['string'] },
  { path: ['from'], accepts: ['object'] },
  { path: ['from', 'uri'], accepts: ['string'] },
  { path: ['from', 'displayName'], accepts: ['string'] },
  { path: ['headers'], accepts: ['object'] },
  { path: ['headers', 'X-Ticket'], accepts: ['string'] },
  { path: ['room'], accepts: ['object'] },
  { path: ['room', 'provider'], accepts: ['string'] },
  { path: ['room', 'serverUrl'], accepts: ['string'] },
  { path: ['room', 'roomId'], accepts: ['number', 'string'] },
  { path: ['room', 'pin'], accepts: ['string'] },
  { path: ['media'], accepts: ['object'] },
  { path: ['media', 'audio'], accepts: ['boolean'] },
  { path: ['media', 'video'], accepts: ['string'] },
  { path: ['limits'], accepts: ['object'] },
  { path: ['limits', 'ringTimeoutS'], accepts: ['number'] },
  { path: ['limits', 'maxDurationS'], accepts: ['number'] },
  { path: ['metadata'], accepts: ['object'] },
  { path: ['metadata', 'tenant'], accepts: ['string'] },
];
const REQUIRED_FIELDS: readonly Path[] = [['version'], ['to'], ['room'], ['room', 'provider'], ['room', 'serverUrl'], ['room', 'roomId'], ['from', 'uri']];
const OBJECT_PATHS: readonly Path[] = [[], ['from'], ['headers'], ['room'], ['media'], ['limits'], ['metadata']];
const OUT_OF_RANGE: readonly { path: Path; value: Json }[] = [
  { path: ['version'], value: 2 },
  { path: ['version'], value: 0 },
  { path: ['limits', 'ringTimeoutS'], value: 0 },
  { path: ['limits', 'ringTimeoutS'], value: 601 },
  { path: ['limits', 'ringTimeoutS'], value: 1.5 },
  { path: ['limits', 'maxDurationS'], value: 1e308 },
  { path: ['limits', 'maxDurationS'], value: -1 },
  { path: ['limits', 'emptyRoomTimeoutS'], value: 9_007_199_254_740_993 },
  { path: ['media', 'video'], value: 'maybe' },
  { path: ['media', 'width'], value: 100_000 },
  { path: ['media', 'fps'], value: 0 },
  { path: ['room', 'roomId'], value: -5 },
  { path: ['room', 'roomId'], value: 0 },
  { path: ['room', 'provider'], value: 'zoom' },
  { path: ['callId'], value: 'has spaces in it' },
  { path: ['callId'], value: '' },
];

/** SIP URIs the strict parser must refuse, each with what is wrong. */
export const BAD_SIP_URIS: readonly string[] = [
  'sip:a@b.example.com;maddr=10.0.0.1',
  'sip:a@127.0.0.1;maddr=169.254.169.254',
  'sip:alice@example.com?Subject=hi',
  'sip:alice@example.com?Route=%3Csip:evil.example.com%3E',
  'sip:alice@example.com:0',
  'sip:alice@example.com:65536',
  'sip:alice@example.com:99999',
  'sip:alice@example.com:-1',
  'sip:alice@example.com:http',
  'sip:alice:secret@example.com',
  'sip:alice@example.com;lr',
  'sip:alice@example.com;transport=tcp;transport=udp',
  'sip:alice@example.com;transport=carrier-pigeon',
  'sip:alice@example.com;method=REGISTER',
  'sip:alice@example.com;ttl=1',
  'sip:alice@example.com;user=phone;x=1',
  'sip:al ice@example.com',
  'sip:alice@exa mple.com',
  'sip:älice@example.com',
  'sip:@example.com',
  'sip:alice@',
  'sip:alice@[::1',
  'sip:alice@[zz::1]',
  'sip:alice@256.1.1.1',
  'sip:alice@1.2.3',
  'sip:alice@-bad.example.com',
  'sip:a&b=c@example.com',
  'sip:a;b@example.com',
  'sip:a?b@example.com',
  'sip:a%0d%0aVia:x@example.com',
  'sip:a%zz@example.com',
  'tel:+15551234567',
  'sips:',
  'SIP:alice@example.com',
  '"Alice" <sip:alice@example.com>',
  `sip:${'a'.repeat(300)}@example.com`,
  `sip:alice@${'a'.repeat(64)}.example.com`,
];
const BAD_ROOM_URLS: readonly string[] = [
  'wss://janus.example.com/ws?token=abc',
  'ws://10.77.0.1:8188/#pin=1234',
  'wss://user:pass@janus.example.com/ws',
  'https://janus.example.com/ws',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'ws://10.77.0.1:99999/',
  'ws://10.77.0.1:0x50/',
  'ws://',
  'not a url',
  `wss://${'a'.repeat(600)}.example.com/`,
];
/** Hosts the lab's allow-lists leave out, each valid syntax. */
const FORBIDDEN_ROOM_HOSTS: readonly string[] = [
  '169.254.169.254',
  '169.254.170.2',
  '127.0.0.1',
  '127.0.0.53',
  'localhost',
  '[::1]',
  '[fd00:ec2::254]',
  '[::ffff:169.254.169.254]',
  '[::ffff:7f00:1]',
  '0.0.0.0',
  '10.0.0.5',
  '192.168.1.1',
  '100.100.100.200',
  'metadata.google.internal',
  'janus.roomline.internal',
  'printer.local',
];
const FORBIDDEN_SIP_HOSTS: readonly string[] = [
  '169.254.169.254',
  '127.0.0.2',
  '10.77.0.1',
  '[::1]',
  '[fe80::1]',
  'localhost',
  'janus.roomline.internal',
  '192.168.0.10',
  '172.16.5.4',
  '224.0.0.1',
];
const CONTROL_CHARS = ['\r', '\n', '\r\n', '\u0000', '\t', '\u0007', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\u202e', '\ud800'];

function clone<T extends Json>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
function setAt(root: { [key: string]: Json }, path: Path, value: Json | undefined): void {
  let node: Json = root;
  for (const key of path.slice(0, -1)) node = (node as { [key: string]: Json })[key as string] as Json;
  const last = path.at(-1) as string;
  if (value === undefined) delete (node as { [key: string]: Json })[last];
  else (node as { [key: string]: Json })[last] = value;
}
function getAt(root: Json, path: Path): Json | undefined {
  let node: Json | undefined = root;
  for (const key of path) node = node === null || typeof node !== 'object' ? undefined : (node as { [key: string]: Json })[key as string];
  return node;
}
function jsonType(value: Json): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
const dotted = (path: Path) => (path.length === 0 ? '(request)' : path.join('.'));
/** The callId a request keeps, or undefined when the case breaks it. */
const keptCallId = (request: { [key: string]: Json }) => {
  const id = request['callId'];
  return typeof id === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id : undefined;
};

/** The arbitrary of one case of `kind`; `n` makes its callId unique. */
export function hostileCase(kind: HostileKind, n: number): fc.Arbitrary<HostileCase> {
  const callId = `hostile-${kind}-${n}`;
  const base = baseRequest(callId);
  const make = (label: string, request: { [key: string]: Json }, expectPath: string, needsPolicy = false): HostileCase => ({
    kind,
    label,
    body: JSON.stringify(request),
    expectPath,
    callId: keptCallId(request),
    needsPolicy,
  });
  switch (kind) {
    case 'broken-json':
      return fc.oneof(
        fc.integer({ min: 0, max: JSON.stringify(base).length - 1 }).map((cut) => ({
          kind,
          label: `cut at ${cut}`,
          body: JSON.stringify(base).slice(0, cut),
          expectPath: 'json',
          callId: undefined,
          needsPolicy: false,
        })),
        fc.string({ maxLength: 200 }).filter((s) => !isJson(s)).map((text) => ({
          kind, label: 'garbage', body: text, expectPath: 'json', callId: undefined, needsPolicy: false,
        })),
        fc.constantFrom('[]', '42', '"dial"', 'null', 'true', '[{"version":1}]').map((text) => ({
          kind, label: `top-level ${text}`, body: text, expectPath: '(request)', callId: undefined, needsPolicy: false,
        })),
        fc.constantFrom('{}', '{"version":1}').map((text) => ({
          kind, label: `object ${text}`, body: text, expectPath: text === '{}' ? 'version' : 'to', callId: undefined, needsPolicy: false,
        })),
        fc.constantFrom('{"version":1,"to":"sip:a@b"', '{"a":1}}', "{'version':1}", '{"version":01}', '\ufeff{}').map((text) => ({
          kind, label: `near JSON ${text}`, body: text, expectPath: 'json', callId: undefined, needsPolicy: false,
        })),
      );
    case 'wrong-type':
      return fc.oneof(
        fc
          .tuple(
            fc.constantFrom(...TYPED_FIELDS),
            fc.constantFrom<Json>(123, -1, 1.5, true, false, null, [], {}, 'text', [1, 2], { a: 1 }, ''),
          )
          .filter(([field, value]) => !field.accepts.includes(jsonType(value)))
          .map(([field, value]) => {
            const request = clone(base);
            setAt(request, field.path, value);
            return make(`${dotted(field.path)} = ${JSON.stringify(value)}`, request, dotted(field.path));
          }),
        fc.constantFrom(...OUT_OF_RANGE).map(({ path, value }) => {
          const request = clone(base);
          setAt(request, path, value);
          return make(`${dotted(path)} = ${JSON.stringify(value)}`, request, dotted(path));
        }),
      );
    case 'missing-field':
      return fc.subarray([...REQUIRED_FIELDS], { minLength: 1 }).map((paths) => {
        const request = clone(base);
        for (const path of paths) if (getAt(request, path.slice(0, -1)) !== undefined) setAt(request, path, undefined);
        const first = REQUIRED_FIELDS.find((p) => paths.includes(p) && getAt(request, p.slice(0, -1)) !== undefined) ?? paths[0]!;
        return make(`without ${paths.map(dotted).join(', ')}`, request, dotted(first.slice(0, paths.some((p) => p.length === 1 && p[0] === first[0]) ? 1 : first.length)));
      });
    case 'unknown-field':
      return fc
        .tuple(
          fc.constantFrom(...OBJECT_PATHS.filter((p) => p[0] !== 'headers' && p[0] !== 'metadata')),
          fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(200, 2_000, 22_000)),
          fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme-ascii' }),
        )
        .map(([path, count, stem]) => {
          const request = clone(base);
          const target = getAt(request, path) as { [key: string]: Json };
          for (let i = 0; i < count; i++) target[`zz${stem}${i}`] = `value ${i}`;
          return make(`${count} unknown key(s) at ${dotted(path)}`, request, dotted(path));
        });
    case 'huge-value':
      return fc.oneof(
        fc.tuple(fc.constantFrom(...STRING_FIELDS), fc.integer({ min: 5_000, max: 300_000 })).map(([path, length]) => {
          const request = clone(base);
          setAt(request, path, 'x'.repeat(length));
          return make(`${dotted(path)} of ${length} characters`, request, dotted(path));
        }),
        fc.tuple(fc.constantFrom(...STRING_FIELDS.filter((p) => p[0] !== 'callId' && p[0] !== 'room')), fc.integer({ min: 600, max: 4_000 })).map(([path, length]) => {
          const request = clone(base);
          setAt(request, path, 'y'.repeat(length));
          return make(`${dotted(path)} of ${length} characters`, request, dotted(path));
        }),
        fc.integer({ min: 9, max: 20_000 }).map((depth) => ({
          kind,
          label: `metadata nested ${depth} deep`,
          body: JSON.stringify(base).replace('"tenant":"acme"', `"tenant":${'['.repeat(depth)}1${']'.repeat(depth)}`),
          expectPath: 'metadata.tenant',
          callId,
          needsPolicy: false,
        })),
        fc.integer({ min: 1_001, max: 30_000 }).map((length) => {
          const request = clone(base);
          setAt(request, ['media'], { video: 'recvonly', splitIncoming: { tiles: Array.from({ length }, () => ({ x: 0, y: 0, width: 1, height: 1 })) } });
          return make(`${length} tiles`, request, '(request)');
        }),
        // up to 900 the schema counts them; from 1,001 the first look refuses the object (in between, the total)
        fc.oneof(fc.integer({ min: 17, max: 900 }), fc.integer({ min: 1_001, max: 5_000 })).map((count) => {
          const request = clone(base);
          setAt(request, ['headers'], Object.fromEntries(Array.from({ length: count }, (_, i) => [`X-H${i}`, 'v'])));
          return make(`${count} headers`, request, 'headers');
        }),
      );
    case 'prototype-key':
      return fc
        .tuple(
          fc.constantFrom(...OBJECT_PATHS),
          fc.constantFrom('__proto__', 'constructor', 'prototype'),
          fc.constantFrom('{"polluted":true}', '"x"', '1', 'null', '{"toString":"boom","__proto__":{"a":1}}'),
        )
        .map(([path, key, value]) => {
          // written into the JSON text: JSON.parse makes "__proto__" an own key, as a message body would carry it
          const marker = '"zzprotomarker":0';
          const request = clone(base);
          (getAt(request, path) as { [key: string]: Json })['zzprotomarker'] = 0;
          return {
            kind,
            label: `${key} at ${dotted(path)}`,
            body: JSON.stringify(request).replace(marker, `"${key}":${value}`),
            expectPath: `${path.length === 0 ? '' : `${dotted(path)}.`}${key}`,
            callId,
            needsPolicy: false,
          };
        });
    case 'control-char':
      return fc
        .tuple(
          fc.constantFrom<Path | 'header-name' | 'metadata-key'>(...STRING_FIELDS, 'header-name', 'metadata-key'),
          fc.constantFrom(...CONTROL_CHARS),
          fc.nat(),
        )
        .map(([where, char, at]) => {
          const request = clone(base);
          if (where === 'header-name' || where === 'metadata-key') {
            const field = where === 'header-name' ? 'headers' : 'metadata';
            const name = where === 'header-name' ? 'X-Evil' : 'tenant2';
            const key = `${name.slice(0, at % name.length)}${char}${name.slice(at % name.length)}`;
            (request[field] as { [key: string]: Json })[key] = 'v';
            return make(`${JSON.stringify(char)} in a ${where}`, request, `${field}.`);
          }
          const text = getAt(request, where) as string;
          const cut = at % (text.length + 1);
          setAt(request, where, `${text.slice(0, cut)}${char}${text.slice(cut)}`);
          return make(`${JSON.stringify(char)} in ${dotted(where)}`, request, where[0] === 'callId' ? 'callId' : dotted(where));
        });
    case 'bad-uri':
      return fc.tuple(fc.constantFrom<Path>(['to'], ['from', 'uri']), fc.constantFrom(...BAD_SIP_URIS)).map(([path, uri]) => {
        const request = clone(base);
        setAt(request, path, uri);
        return make(`${dotted(path)} = ${uri.slice(0, 60)}`, request, dotted(path));
      });
    case 'bad-room-url':
      return fc.constantFrom(...BAD_ROOM_URLS).map((url) => {
        const request = clone(base);
        setAt(request, ['room', 'serverUrl'], url);
        return make(`room.serverUrl = ${url.slice(0, 60)}`, request, 'room.serverUrl');
      });
    case 'forbidden-host':
      return fc.oneof(
        fc.tuple(fc.constantFrom(...FORBIDDEN_ROOM_HOSTS), fc.constantFrom('ws', 'wss'), fc.integer({ min: 1, max: 65_535 })).map(([host, scheme, port]) => {
          const request = clone(base);
          setAt(request, ['room', 'serverUrl'], `${scheme}://${host}:${port}/`);
          return make(`room server ${host}`, request, 'room', true);
        }),
        fc.tuple(fc.constantFrom(...FORBIDDEN_SIP_HOSTS), fc.integer({ min: 1, max: 65_535 })).map(([host, port]) => {
          const request = clone(base);
          setAt(request, ['to'], `sip:probe@${host}:${port}`);
          return make(`SIP target ${host}`, request, 'to', true);
        }),
      );
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether SQS itself takes this body: not empty, at most 1 MiB, only the characters SQS allows (#x9, #xA, #xD,
 * #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF). A body it does not take never reaches a worker.
 */
export function queueCarries(body: string): boolean {
  return body.length > 0 && Buffer.byteLength(body) <= 1_048_576 && !/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(body);
}

/** An arbitrary of any case, every kind equally likely. */
export function hostileCaseArbitrary(): fc.Arbitrary<HostileCase> {
  return fc.constantFrom(...HOSTILE_KINDS).chain((kind) => fc.nat({ max: 1_000_000 }).chain((n) => hostileCase(kind, n)));
}

/** `perKind` cases of every kind, reproducible from `seed`, each with a unique callId. */
export function hostileCorpus(perKind: number, seed = 20_261_201): HostileCase[] {
  return HOSTILE_KINDS.flatMap((kind, k) =>
    Array.from({ length: perKind }, (_, i) => fc.sample(hostileCase(kind, i), { seed: seed + k * 100_003 + i, numRuns: 1 })[0]!),
  );
}

/** The body that crashed every worker in the issue: a 242 KB request with 22,000 unknown keys. */
export function issueCrashBody(callId: string): string {
  const request: { [key: string]: Json } = baseRequest(callId);
  for (let i = 0; i < 22_000; i++) request[`k${String(i).padStart(5, '0')}`] = 'x';
  return JSON.stringify(request);
}
