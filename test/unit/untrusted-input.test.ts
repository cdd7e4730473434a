import { describe, expect, it } from 'vitest';
import { safeParseDialRequest } from '../../contracts/dial-request.js';
import { REASON_LIMITS, checkUntrustedInput, summariseIssues } from '../../contracts/untrusted-input.js';
import { baseRequest, issueCrashBody } from '../support/hostile-requests.js';

const reasonFor = (input: unknown) => {
  const result = safeParseDialRequest(input);
  if (result.ok) throw new Error('expected the request to be refused');
  return result.reason;
};

describe('untrusted input, before any schema', () => {
  it.each([
    ['metadata', '"tenant":"acme"', '"tenant":"acme","__proto__":{"polluted":true}', 'metadata.__proto__: a prototype key is not allowed anywhere'],
    ['headers', '"X-Ticket":"42"', '"X-Ticket":"42","constructor":"x"', 'headers.constructor: a prototype key is not allowed anywhere'],
    ['the room', '"roomId":1234', '"roomId":1234,"prototype":1', 'room.prototype: a prototype key is not allowed anywhere'],
    ['the top level', '"version":1', '"version":1,"__proto__":null', '__proto__: a prototype key is not allowed anywhere'],
  ])('refuses a prototype key in %s rather than dropping it', (_where, find, replace, expected) => {
    // Prepare: in the JSON text, as a message body carries it (JSON.parse makes "__proto__" an own key)
    const text = JSON.stringify(baseRequest('proto-1')).replace(find, replace);
    expect(text).toContain(replace);

    // Act
    const reason = reasonFor(JSON.parse(text));

    // Assess
    expect(reason).toBe(expected);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses what JSON cannot carry: cycles, getters, class instances, functions, non-finite numbers', () => {
    // Prepare
    const cyclic: Record<string, unknown> = { ...baseRequest('c') };
    cyclic['metadata'] = cyclic;
    const getter = { ...baseRequest('g') };
    Object.defineProperty(getter, 'to', { get: () => 'sip:a@b.example.com', enumerable: true });

    // Act
    const reasons = [
      reasonFor(cyclic),
      reasonFor(getter),
      reasonFor({ ...baseRequest('d'), limits: new Date() }),
      reasonFor({ ...baseRequest('f'), to: () => 'sip:a@b' }),
      reasonFor({ ...baseRequest('n'), limits: { ringTimeoutS: Number.POSITIVE_INFINITY } }),
      reasonFor(new Proxy({}, { ownKeys: () => { throw new Error('trap'); } })),
    ];

    // Assess
    expect(reasons).toEqual([
      'metadata: refers back to itself (a cycle is not JSON)',
      'to: must be a plain value, not a getter',
      'limits: must be plain JSON data (an object, not a class instance)',
      'to: must be a JSON value (a function is not one)',
      'limits.ringTimeoutS: must be a finite number',
      '(request): could not be read as plain JSON data',
    ]);
  });

  it('walks any depth without recursion and says where nesting went too deep', () => {
    // Prepare
    const deep = JSON.parse(`{"metadata":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`) as unknown;

    // Act
    const issues = checkUntrustedInput(deep);

    // Assess
    expect(issues).toEqual([{ path: ['metadata', 'a', 0, 0, 0, 0, 0, 0], message: 'nested too deeply (at most 8 levels)' }]);
  });

  it('answers the 242 KB, 22,000-key body that crashed workers with one short reason', () => {
    // Prepare
    const body = JSON.parse(issueCrashBody('crash-1')) as unknown;

    // Act
    const result = safeParseDialRequest(body);

    // Assess
    expect(result).toEqual({ ok: false, reason: '(request): too many fields: 22009', callId: 'crash-1' });
  });

  it('bounds a reason whatever the number and size of problems, and escapes what callers named', () => {
    // Prepare
    const issues = Array.from({ length: 5_000 }, (_, i) => ({ path: [`key\r\n${'k'.repeat(i)}`], message: 'm'.repeat(10_000) }));

    // Act
    const reason = summariseIssues(issues);

    // Assess
    expect(reason.length).toBeLessThanOrEqual(REASON_LIMITS.maxReasonLength + 1);
    expect(reason).not.toMatch(/[\r\n]/);
    expect(reason).toContain('"key\\r\\n');
  });

  it('names a few unknown fields and counts the rest', () => {
    // Prepare
    const request: Record<string, unknown> = { ...baseRequest('u') };
    for (let i = 0; i < 300; i++) request[`extra${i}`] = i;

    // Act
    const reason = reasonFor(request);

    // Assess
    expect(reason).toBe('(request): unknown fields extra0, extra1, extra2, extra3, extra4 and 295 more');
  });
});
