import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulators } from '../../lab/emulators.js';
import { RoomlineClient } from '../../worker/client.js';
import { packageRoot } from '../../worker/paths.js';

/** `roomline route add|list|remove` as an operator types it, against the DynamoDB emulator's routes table. */
const bin = join(packageRoot(), 'bin', 'roomline.mjs');
let emulators: Emulators;

function roomline(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...emulators.env(), ...env },
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
  emulators = await Emulators.start();
});
afterAll(async () => {
  await emulators.stop();
});

describe('roomline route', () => {
  it('adds a route by number, lists it without the room pin, and removes it', async () => {
    const added = await roomline(
      ['route', 'add', '--number', '+15551230000', '--room-url', 'wss://janus.example.com/', '--room-id', '1234', '--room-pin-from-env', '--caller-name', 'name'],
      { ROOMLINE_ROOM_PIN: 'room-secret' },
    );
    expect(added.code, added.err).toBe(0);
    expect(added.out.trim()).toBe('number:+15551230000');

    const listed = await roomline(['route', 'list', '--json']);
    expect(listed.code, listed.err).toBe(0);
    expect(JSON.parse(listed.out)).toEqual([
      expect.objectContaining({ routeId: 'number:+15551230000', callerName: 'name', room: expect.objectContaining({ roomId: 1234 }) }),
    ]);
    expect(listed.out).not.toContain('room-secret');
    // the worker's lookup sees the pin: it is the room's, stored with the route
    const client = new RoomlineClient({
      queueUrl: emulators.queueUrl,
      tableName: emulators.tableName,
      routesTableName: emulators.routesTableName,
      dynamodb: emulators.dynamodbClient(),
    });
    expect(await client.listRoutes()).toHaveLength(1);

    const removed = await roomline(['route', 'remove', 'number:+15551230000']);
    expect(removed.code, removed.err).toBe(0);
    expect((await roomline(['route', 'list'])).out).toBe('');
  });

  it('refuses a second route for the same number unless asked to replace it', async () => {
    const room = JSON.stringify({ provider: 'janus', serverUrl: 'wss://janus.example.com/', roomId: 7 });
    expect((await roomline(['route', 'add', '--header', 'X-Room=sales', '--room', room])).code).toBe(0);

    const again = await roomline(['route', 'add', '--header', 'X-Room=sales', '--room', room]);
    const replaced = await roomline(['route', 'add', '--header', 'X-Room=sales', '--room', room, '--replace']);

    expect(again.code).toBe(2);
    expect(again.err).toContain('exists already');
    expect(replaced.code, replaced.err).toBe(0);
    expect(replaced.out.trim()).toBe('header:x-room:sales');
  });

  it('refuses a number that is not digits, and removing a route that does not exist, with clear errors', async () => {
    const bad = await roomline(['route', 'add', '--number', '555-CALL', '--room-url', 'wss://janus.example.com/', '--room-id', '1']);
    const missing = await roomline(['route', 'remove', 'number:+10000000000']);

    expect(bad.code).toBe(2);
    expect(bad.err).toContain('must be 1-32 digits');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no route number:+10000000000');
  });
});
