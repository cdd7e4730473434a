import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../worker/logger.js';

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { logger: createLogger({ level: 'info', destination: stream }), lines: () => text };
}

describe('logs', () => {
  it('never carry a room pin, a token or a SIP password', async () => {
    const { logger, lines } = capture();

    logger.info({ room: { pin: '987654' }, trunk: { password: 'hunter2' }, token: 'eyJhbGciOi' }, 'joining');
    logger.info({ request: { room: { provider: 'janus', pin: '555' } } }, 'request');
    logger.info({ iceServers: [{ urls: 'turn:x', credential: 'turnpass' }] }, 'ice');
    await new Promise((resolve) => setImmediate(resolve));

    const text = lines();
    for (const secret of ['987654', 'hunter2', 'eyJhbGciOi', '555', 'turnpass']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('are one JSON object per line with an ISO time and a level name', async () => {
    const { logger, lines } = capture();

    logger.warn({ callId: 'c1' }, 'hello');
    await new Promise((resolve) => setImmediate(resolve));

    const line = JSON.parse(lines().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', msg: 'hello', callId: 'c1', service: 'roomline' });
    expect(String(line['time'])).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
