import { describe, expect, it } from 'vitest';
import { loadClientConfig, loadWorkerConfig } from '../../worker/config.js';

const base = {
  ROOMLINE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/roomline-dial',
  ROOMLINE_TABLE: 'roomline-calls',
  ROOMLINE_JANUS_URLS: 'ws://janus-1:8188, ws://janus-2:8188',
};

describe('configuration from the environment', () => {
  it('resolves every worker default once', () => {
    const config = loadWorkerConfig(base);

    expect(config.janusUrls).toEqual(['ws://janus-1:8188', 'ws://janus-2:8188']);
    expect(config).toMatchObject({
      maxReceives: 3,
      visibilityTimeoutS: 30,
      leaseS: 20,
      sweepIntervalS: 10,
      awsRequestTimeoutMs: 3_000,
      recordTtlDays: 30,
      defaultFrom: 'sip:roomline@roomline.invalid',
      idleExitS: 0,
      videoCaps: { width: 1280, height: 720, fps: 30 },
      logLevel: 'info',
    });
    expect(config.workerId).toMatch(/-\d+$/);
  });

  it('names every bad variable in one message', () => {
    let message = '';
    try {
      loadWorkerConfig({ ...base, ROOMLINE_JANUS_URLS: 'http://janus', ROOMLINE_MAX_RECEIVES: 'three', ROOMLINE_ICE_SERVERS: '[' });
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toContain('ROOMLINE_JANUS_URLS.0: each entry must be a ws:// or wss:// URL');
    expect(message).toContain('ROOMLINE_MAX_RECEIVES: must be a positive whole number');
    expect(message).toContain('ROOMLINE_ICE_SERVERS: must be a JSON array of RTCIceServer objects');
  });

  it('runs the system Chromium unless told to run @sparticuz/chromium, and refuses another build, a path or the sandbox with it', () => {
    expect(loadWorkerConfig(base).chromiumBuild).toBe('system');
    expect(loadWorkerConfig({ ...base, ROOMLINE_CHROMIUM: 'sparticuz', ROOMLINE_CHROMIUM_SANDBOX: 'off' }).chromiumBuild).toBe('sparticuz');

    expect(() => loadWorkerConfig({ ...base, ROOMLINE_CHROMIUM: 'chrome' })).toThrow(/ROOMLINE_CHROMIUM: .*"system"\|"sparticuz"/);
    expect(() =>
      loadWorkerConfig({ ...base, ROOMLINE_CHROMIUM: 'sparticuz', ROOMLINE_CHROMIUM_SANDBOX: 'off', ROOMLINE_CHROMIUM_PATH: '/usr/bin/chromium' }),
    ).toThrow(/ROOMLINE_CHROMIUM_PATH: names the system build/);
    expect(() => loadWorkerConfig({ ...base, ROOMLINE_CHROMIUM: 'sparticuz' })).toThrow(/set ROOMLINE_CHROMIUM_SANDBOX=off to run it/);
  });

  it('refuses a visibility timeout that is not longer than the call lease, naming both', () => {
    expect(() => loadWorkerConfig({ ...base, ROOMLINE_VISIBILITY_TIMEOUT_S: '20', ROOMLINE_LEASE_S: '20' })).toThrow(
      'ROOMLINE_VISIBILITY_TIMEOUT_S (20 s) must be longer than ROOMLINE_LEASE_S (20 s)',
    );
  });

  it('refuses a request timeout that would let one lease renewal run into the next', () => {
    expect(() =>
      loadWorkerConfig({ ...base, ROOMLINE_LEASE_S: '6', ROOMLINE_VISIBILITY_TIMEOUT_S: '10', ROOMLINE_AWS_REQUEST_TIMEOUT_MS: '2500' }),
    ).toThrow('ROOMLINE_AWS_REQUEST_TIMEOUT_MS (2500 ms) must be at most a third of ROOMLINE_LEASE_S (6 s)');
  });

  it('tells the client which variable is missing', () => {
    expect(() => loadClientConfig({ ROOMLINE_TABLE: 'calls' })).toThrow(/ROOMLINE_QUEUE_URL/);
  });

  it('uses the ECS task id as worker id on ECS', () => {
    const config = loadWorkerConfig({
      ...base,
      ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/0123456789abcdef0123456789abcdef-1234567890',
    });

    expect(config.workerId).toBe('0123456789abcdef0123456789abcdef');
  });

  it('defaults the region for emulator endpoints only', () => {
    expect(loadClientConfig({ ...base, AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566' }).region).toBe('us-east-1');
    expect(loadClientConfig(base).region).toBeUndefined();
  });

  it('isolates Chromium by default: its sandbox on, every call held to public room servers and SIP hosts', () => {
    // Act
    const config = loadWorkerConfig(base);

    // Assess
    expect(config.chromiumIsolation).toEqual({ sandbox: true, user: undefined, setpriv: '/usr/bin/setpriv' });
    expect(config.egress.rooms.refusal('janus.example.com')).toBeUndefined();
    expect(config.egress.rooms.refusal('169.254.169.254')).toContain('cloud metadata address');
    expect(config.egress.sip.refusal('10.0.0.1')).toContain('private address');
    expect(config.janusApiSecret).toBeUndefined();
  });

  it('names a bad allow-list entry, a bad Chromium user and a bad sandbox value', () => {
    // Act
    const attempt = () =>
      loadWorkerConfig({ ...base, ROOMLINE_ROOM_HOSTS: '*.example.com, http://evil', ROOMLINE_CHROMIUM_USER: 'root; rm -rf /', ROOMLINE_CHROMIUM_SANDBOX: 'maybe' });

    // Assess
    expect(attempt).toThrow(/ROOMLINE_ROOM_HOSTS: must be a comma-separated list of host patterns: "http:\/\/evil" is neither/);
    expect(attempt).toThrow(/ROOMLINE_CHROMIUM_USER: must be a user name or uid:gid/);
    expect(attempt).toThrow(/ROOMLINE_CHROMIUM_SANDBOX/);
  });

  it('gives a client the allow-lists only when its environment names them, the SIP list defaulting to the room list', () => {
    // Act
    const plain = loadClientConfig(base);
    const listed = loadClientConfig({ ...base, ROOMLINE_ROOM_HOSTS: '10.77.0.1' });

    // Assess
    expect(plain.egress).toBeUndefined();
    expect(listed.egress?.rooms.refusal('10.77.0.1')).toBeUndefined();
    expect(listed.egress?.sip.refusal('10.77.0.1')).toBeUndefined();
    expect(listed.egress?.sip.refusal('8.8.8.8')).toBe('8.8.8.8 is not on the allow-list');
  });
});
