import { describe, expect, it } from 'vitest';
import { runSmoke, smokeSettings } from '../../lab/smoke.js';

const DAILY_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJyIjoic21va2UifQ.c21va2UtdG9rZW4tZGFpbHk';
const VONAGE_TOKEN = 'T1==cGFydG5lcl9pZD0xMjM0JnNpZz1zbW9rZS12b25hZ2UtdG9rZW4=';

/** Runs a smoke command with `env` and returns its exit code and output (it stops before any browser starts here). */
async function smoke(provider: 'daily' | 'vonage', env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runSmoke(provider, { env, out: (line) => lines.push(line) });
  return { code, output: lines.join('\n') };
}

describe('the live smoke commands without an account', () => {
  it('stop with exit code 2 and name every variable the Daily smoke test needs', async () => {
    // Act
    const { code, output } = await smoke('daily', {});

    // Assess
    expect(code).toBe(2);
    expect(output).toContain('missing: ROOMLINE_SMOKE_DAILY_URL');
    expect(output).toContain('ROOMLINE_SMOKE_DAILY_TOKEN');
  });

  it('stop with exit code 2 and name every missing variable of the Vonage smoke test', async () => {
    // Act
    const { code, output } = await smoke('vonage', { ROOMLINE_SMOKE_VONAGE_TOKEN: VONAGE_TOKEN });

    // Assess
    expect(code).toBe(2);
    expect(output).toContain('missing: ROOMLINE_SMOKE_VONAGE_APPLICATION_ID, ROOMLINE_SMOKE_VONAGE_SESSION_ID');
    expect(output).not.toContain(VONAGE_TOKEN);
  });

  it('refuse settings the provider\'s contract refuses, without printing the token', async () => {
    // Act
    const { code, output } = await smoke('daily', {
      ROOMLINE_SMOKE_DAILY_URL: `https://acme.daily.co/standup?t=${DAILY_TOKEN}`,
      ROOMLINE_SMOKE_DAILY_TOKEN: DAILY_TOKEN,
    });

    // Assess
    expect(code).toBe(2);
    expect(output).toContain('url: must carry no query or fragment: the meeting token goes in "token"');
    expect(output).not.toContain(DAILY_TOKEN);
  });

  it('ask for both the Janus node and the SIP target of the round trip, or neither', () => {
    // Act
    const attempt = () =>
      smokeSettings('daily', { ROOMLINE_SMOKE_DAILY_URL: 'https://acme.daily.co/standup', ROOMLINE_SMOKE_SIP_TO: 'sip:echo@pbx.example.com' });

    // Assess
    expect(attempt).toThrow('the SIP round trip needs both ROOMLINE_SMOKE_JANUS_URL and ROOMLINE_SMOKE_SIP_TO (or neither)');
  });

  it('take a complete Vonage setting as the join data, the token kept as a secret not to print', () => {
    // Act
    const settings = smokeSettings('vonage', {
      ROOMLINE_SMOKE_VONAGE_APPLICATION_ID: '12345678',
      ROOMLINE_SMOKE_VONAGE_SESSION_ID: '1_MX4xMjM0NTY3OH5-c21va2U-fg',
      ROOMLINE_SMOKE_VONAGE_TOKEN: VONAGE_TOKEN,
    });

    // Assess
    expect(settings.room).toMatchObject({ provider: 'vonage', applicationId: '12345678', token: VONAGE_TOKEN });
    expect(settings.secrets).toEqual([VONAGE_TOKEN]);
    expect(settings.sip).toBeUndefined();
  });
});
