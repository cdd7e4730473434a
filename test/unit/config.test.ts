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

  it('runs the system Chromium unless told to run @sparticuz/chromium, and refuses another build or a path with it', () => {
    expect(loadWorkerConfig(base).chromiumBuild).toBe('system');
    expect(loadWorkerConfig({ ...base, ROOMLINE_CHROMIUM: 'sparticuz' }).chromiumBuild).toBe('sparticuz');

    expect(() => loadWorkerConfig({ ...base, ROOMLINE_CHROMIUM: 'chrome' })).toThrow(/ROOMLINE_CHROMIUM: .*"system"\|"sparticuz"/);
    expect(() => loadWorkerConfig({ ...base, ROOMLINE_CHROMIUM: 'sparticuz', ROOMLINE_CHROMIUM_PATH: '/usr/bin/chromium' })).toThrow(
      /ROOMLINE_CHROMIUM_PATH: names the system build/,
    );
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
});
