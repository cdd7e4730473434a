import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CallRecord } from '../../contracts/call-record.js';
import { RoomlineClient } from '../../worker/client.js';
import type { LabEndpoints } from '../../lab/lab.js';
import { packageRoot } from '../../worker/paths.js';

/** The `roomline` command as a user types it: help, lab up / exec / down, dial --wait, status, bad input. */
const bin = join(packageRoot(), 'bin', 'roomline.mjs');
let stateDir: string;
let endpoints: LabEndpoints;

function roomline(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ROOMLINE_LAB_STATE_DIR: stateDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'roomline-cli-test-'));
  const up = await roomline(['lab', 'up']);
  expect(up.code, up.err).toBe(0);
  endpoints = JSON.parse(up.out) as LabEndpoints;
});
afterAll(async () => {
  const down = await roomline(['lab', 'down']);
  expect(down.out).toContain('lab stopped');
  await rm(stateDir, { recursive: true, force: true });
});

describe('the roomline command', () => {
  it('documents every command in --help', async () => {
    const top = await roomline(['--help']);
    const lab = await roomline(['lab', '--help']);
    const dial = await roomline(['dial', '--help']);

    for (const command of ['dial', 'status', 'hangup', 'dtmf', 'hold', 'resume', 'transfer', 'worker', 'lab', 'demo']) {
      expect(top.out).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    for (const command of ['up', 'down', 'exec']) expect(lab.out).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    for (const flag of ['--to', '--room', '--room-url', '--room-id', '--json', '--wait', '--header', '--ring-timeout', '--dtmf-after-answer', '--srtp', '--audio-codecs']) {
      expect(dial.out).toContain(flag);
    }
    const dtmf = await roomline(['dtmf', '--help']);
    expect(dtmf.out).toContain('--carriage');
    expect(dtmf.out).toContain('--wait');
    expect(top.out).toContain('ROOMLINE_QUEUE_URL');
  });

  it('prints the lab endpoints as JSON on lab up', () => {
    expect(endpoints.sqs.queueUrl).toContain('roomline-dial');
    expect(endpoints.room).toMatchObject({ provider: 'janus', serverUrl: 'ws://10.77.0.1:8188/', roomId: 1234 });
    expect(endpoints.room.token).toMatch(/^\d+,janus,janus\.plugin\.videoroom:/);
    expect(endpoints.sip.phone).toBe('sip:probe@127.0.0.1:5090');
    expect(endpoints.env['ROOMLINE_TABLE']).toBe(endpoints.dynamodb.table);
  });

  it('dials through lab exec and shows each state live until the call ends at its maximum duration', async () => {
    // the room's token comes from the environment lab exec sets, not from the command line
    const dial = await roomline([
      'lab', 'exec', '--', process.execPath, bin, 'dial',
      '--to', endpoints.sip.phone,
      '--room-url', endpoints.room.serverUrl,
      '--room-id', String(endpoints.room.roomId),
      '--room-token-from-env',
      '--header', 'X-Ticket=42',
      '--max-duration', '2',
      '--wait',
    ]);

    expect(dial.code, dial.err).toBe(0);
    const lines = dial.out.trim().split('\n');
    const callId = lines[0]!;
    for (const state of ['QUEUED', 'CLAIMED', 'JOINING', 'DIALING', 'CONNECTED', 'ENDED']) expect(dial.out).toContain(` ${state}`);
    expect(dial.out).toContain('maximum duration of 2 s reached');
    const status = await roomline(['lab', 'exec', '--', process.execPath, bin, 'status', callId, '--json']);
    expect(JSON.parse(status.out)).toMatchObject({ callId, state: 'ENDED', endedBy: 'limit' });
  });

  it('refuses a bad request with a readable reason and exit code 2, sending nothing', async () => {
    const dial = await roomline([
      'lab', 'exec', '--', process.execPath, bin, 'dial', '--to', 'tel:+4930123', '--room-url', endpoints.room.serverUrl, '--room-id', '1',
    ]);

    expect(dial.code).toBe(2);
    expect(dial.err).toContain('invalid dial request: to: must be a sip: or sips: URI');
  });

  it('refuses a room of a provider it does not know, naming the providers it knows, and a room given twice', async () => {
    const dial = (...args: string[]) =>
      roomline(['lab', 'exec', '--', process.execPath, bin, 'dial', '--to', endpoints.sip.phone, ...args]);

    const unknown = await dial('--room', '{"provider":"zoom","meeting":"1"}');
    const twice = await dial('--room', JSON.stringify(endpoints.room), '--room-id', '7');

    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('room.provider: provider must be one of: janus');
    expect(twice.code).toBe(2);
    expect(twice.err).toContain('--room cannot be combined with --room-url, --room-id, --room-pin-from-env or --room-token-from-env');
  });

  it('stops a worker with a bad configuration at once, naming the variable', async () => {
    const worker = await roomline(['worker'], { ROOMLINE_QUEUE_URL: 'not a url', ROOMLINE_TABLE: 't', ROOMLINE_JANUS_URLS: 'ws://x' });

    expect(worker.code).toBe(2);
    expect(worker.err).toContain('ROOMLINE_QUEUE_URL: must be the SQS queue URL');
  });

  it('sends digits and holds and resumes a live call, each carried out by its worker (--wait)', { timeout: 180_000 }, async () => {
    const exec = (...args: string[]) => roomline(['lab', 'exec', '--', process.execPath, bin, ...args]);
    const dial = await exec('dial', '--to', endpoints.sip.phone, '--room', JSON.stringify(endpoints.room), '--max-duration', '120');
    const callId = dial.out.trim();
    // the lab's one worker may still be warming up after the last call: watch the record (as the library would)
    const dynamodb = new DynamoDBClient({
      endpoint: endpoints.dynamodb.endpoint,
      region: endpoints.env['AWS_REGION'],
      credentials: { accessKeyId: endpoints.env['AWS_ACCESS_KEY_ID']!, secretAccessKey: endpoints.env['AWS_SECRET_ACCESS_KEY']! },
    });
    const client = new RoomlineClient({ queueUrl: endpoints.sqs.queueUrl, tableName: endpoints.dynamodb.table, dynamodb });
    await client.waitForCall(callId, (r) => r.state === 'CONNECTED' || r.state === 'ENDED' || r.state === 'FAILED', { timeoutMs: 90_000 });
    dynamodb.destroy();

    const dtmf = await exec('dtmf', callId, '42#', '--carriage', 'info', '--wait');
    const hold = await exec('hold', callId, '--wait');
    const resume = await exec('resume', callId, '--wait');
    const bad = await exec('dtmf', callId, '42x');
    const hangup = await exec('hangup', callId, '--wait');

    expect(dial.code, dial.err).toBe(0);
    expect([dtmf.out, hold.out, resume.out], [dtmf.err, hold.err, resume.err].join(' ')).toEqual([
      `dtmf done for ${callId}\n`,
      `hold done for ${callId}\n`,
      `resume done for ${callId}\n`,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('invalid control request: digits: must be DTMF digits');
    expect(hangup.code).toBe(0);
    const status = JSON.parse((await exec('status', callId, '--json')).out) as CallRecord;
    expect(status.history.map((h) => h.state)).toContain('ON_HOLD');
    expect(status.history.some((h) => h.event?.type === 'dtmf-sent')).toBe(true);
  });
});
