import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../contracts/errors.js';
import { describeSipCode, errorCodeForSipFailure } from '../../contracts/sip-codes.js';

describe('SIP failure mapping', () => {
  it.each([
    [486, 'SIP_BUSY'],
    [600, 'SIP_BUSY'],
    [603, 'SIP_DECLINED'],
    [404, 'SIP_NOT_FOUND'],
    [604, 'SIP_NOT_FOUND'],
    [484, 'SIP_NOT_FOUND'],
    [408, 'SIP_NO_ANSWER'],
    [480, 'SIP_NO_ANSWER'],
    [487, 'SIP_NO_ANSWER'],
    [401, 'SIP_AUTH_FAILED'],
    [407, 'SIP_AUTH_FAILED'],
    [904, 'SIP_AUTH_FAILED'],
    [503, 'SIP_UNREACHABLE'],
    [488, 'SIP_REJECTED'],
    [500, 'SIP_REJECTED'],
  ] as const)('maps SIP %i to %s', (sipCode, code) => {
    expect(errorCodeForSipFailure(sipCode)).toBe(code);
  });

  it('maps a call that got no SIP response at all to SIP_UNREACHABLE', () => {
    expect(errorCodeForSipFailure(undefined)).toBe('SIP_UNREACHABLE');
    expect(errorCodeForSipFailure(0)).toBe('SIP_UNREACHABLE');
  });

  it('blames the remote side and never retries a SIP failure', () => {
    for (const sipCode of [404, 486, 503, 603, 488]) {
      const code = errorCodeForSipFailure(sipCode);
      expect(ERROR_CODES[code]).toEqual({ retryable: false, fault: 'remote' });
    }
  });

  it('names common codes and falls back to the class of the others', () => {
    expect(describeSipCode(180)).toBe('Ringing');
    expect(describeSipCode(486)).toBe('Busy Here');
    expect(describeSipCode(499)).toBe('Request Failed');
    expect(describeSipCode(599)).toBe('Server Error');
  });
});
