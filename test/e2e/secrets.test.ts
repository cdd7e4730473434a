import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../contracts/call-record.js';
import { toCallEvents } from '../../infra/functions/call-events.js';
import { LAB_PINNED_ROOM_ID } from '../../lab/janus-server.js';
import type { Lab } from '../../lab/lab.js';
import { packageRoot } from '../../worker/paths.js';
import { isFinal, useLab } from '../support/lab.js';
import { scanForSecrets, type ScannedText, type Secret } from '../support/secret-scan.js';

/**
 * A call that carries every kind of secret Roomline handles: a room pin and a room token (in the dial request), the
 * Janus API secret (worker configuration), a SIP trunk's password (read by the worker from Secrets Manager) and a TURN
 * credential (ROOMLINE_ICE_SERVERS). The call runs through the CLI; then every log line of every worker (the bot page's
 * logs included), the call record, the events the record's changes produce and the CLI's output are searched for each
 * secret, as written and encoded.
 */
const turnCredential = `turn-${randomBytes(12).toString('hex')}`;
const trunkPassword = `trunk-${randomBytes(12).toString('hex')}`;
const TRUNK = 'lab-trunk';

let lab: Lab;
useLab(
  {
    workers: 1,
    workerEnv: {
      // a TURN server that does not exist inside the lab's namespace: its credential still travels to the page
      ROOMLINE_ICE_SERVERS: JSON.stringify([{ urls: 'turn:10.77.0.2:3478?transport=udp', username: 'roomline', credential: turnCredential }]),
    },
  },
  (started) => {
    lab = started;
    lab.emulators.secrets.put(
      `roomline/trunks/${TRUNK}`,
      JSON.stringify({ proxy: lab.endpoints.sip.phone.replace('probe@', ''), username: 'sip:roomline@127.0.0.1', password: trunkPassword, authUsername: 'roomline' }),
    );
  },
);

function roomline(args: readonly string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'roomline.mjs'), ...args], {
      env: { ...process.env, ...lab.endpoints.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(input ?? '');
  });
}

/** The events the call-events pipe would put on the bus for this sequence of record revisions. */
function eventsFor(revisions: readonly CallRecord[]): unknown[] {
  return toCallEvents(
    revisions.map((record, i) => ({
      eventName: i === 0 ? 'INSERT' : 'MODIFY',
      dynamodb: {
        NewImage: marshall(record, { removeUndefinedValues: true }) as never,
        ...(i === 0 ? {} : { OldImage: marshall(revisions[i - 1]!, { removeUndefinedValues: true }) as never }),
      },
    })),
  );
}

describe('secrets', () => {
  it('are found nowhere a call writes: logs, record, events, CLI output', async () => {
    // Prepare
    const callId = `secrets-${randomBytes(4).toString('hex')}`;
    const secrets: Secret[] = [
      { name: 'room pin', value: lab.janus.roomPin },
      { name: 'room token', value: lab.endpoints.room.token },
      { name: 'Janus API secret', value: lab.janus.apiSecret },
      { name: 'trunk password', value: trunkPassword },
      { name: 'TURN credential', value: turnCredential },
    ];
    const request = {
      ...lab.dialRequest(),
      callId,
      trunk: TRUNK,
      room: { ...lab.endpoints.room, roomId: LAB_PINNED_ROOM_ID, pin: lab.janus.roomPin, display: 'Phone' },
      limits: { ringTimeoutS: 20, maxDurationS: 3, emptyRoomTimeoutS: 30 },
    };
    const revisions: CallRecord[] = [];
    const watching = (async () => {
      for await (const record of lab.client.watchCall(callId, { intervalMs: 50, signal: AbortSignal.timeout(90_000) })) revisions.push(record);
    })();
    const startedAt = Date.now();

    // Act
    const dial = await roomline(['dial', '--json', '-', '--wait'], JSON.stringify(request));
    await watching;
    const statusJson = await roomline(['status', callId, '--json']);
    const status = await roomline(['status', callId]);
    const record = await lab.client.getCall(callId);
    await lab.pool!.waitReady(1);
    const workerLogs: ScannedText[] = await Promise.all(
      lab.pool!.workers.map(async (w) => ({ source: w.logFile, text: await readFile(w.logFile, 'utf8') })),
    );
    const texts: ScannedText[] = [
      ...workerLogs,
      { source: 'call record', text: JSON.stringify(record) },
      { source: 'events', text: JSON.stringify(eventsFor(revisions)) },
      { source: 'roomline dial --wait', text: `${dial.out}\n${dial.err}` },
      { source: 'roomline status --json', text: `${statusJson.out}\n${statusJson.err}` },
      { source: 'roomline status', text: `${status.out}\n${status.err}` },
    ];
    const findings = scanForSecrets(texts, secrets);

    // Assess: the call used each secret...
    expect(dial.code, dial.err).toBe(0);
    expect(record).toMatchObject({ state: 'ENDED', endedBy: 'limit' });
    expect(record?.history.map((h) => h.state)).toContain('CONNECTED');
    expect(lab.phone.invitesSince(startedAt).length, 'the phone got the INVITE sent through the trunk').toBeGreaterThan(0);
    // the watch polls every 50 ms, so on a busy machine it can miss a state that lasted less: the events are checked
    // against the states it did see, which always include the call's connection and its end
    const seenStates = revisions.map((r) => r.state).filter((state, i, all) => i === 0 || all[i - 1] !== state);
    const events = eventsFor(revisions) as { state: string }[];
    expect(seenStates).toEqual(expect.arrayContaining(['CONNECTED', 'ENDED']));
    expect(events.map((e) => e.state)).toEqual(seenStates);
    const logText = workerLogs.map((l) => l.text).join('\n');
    for (const line of ['"msg":"call claimed"', '"state":"CONNECTED"', '"page":true']) {
      expect(logText, 'the scan covers the call\'s own log lines, the page\'s included').toContain(line);
    }
    // the call went out through the trunk: its INVITE is in the setup trace the scan covers with the record
    expect(record?.setup?.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['page.dial', 'sip.invite', 'sip.answered']));
    // ...the scanner finds a secret where there is one...
    expect(scanForSecrets([{ source: 'control', text: `pin=${encodeURIComponent(lab.janus.roomPin)}` }], secrets)).toHaveLength(1);
    // ...and none was written anywhere
    expect(findings).toEqual([]);
  });

  it('keeps Janus\'s own log (debug level 4) free of them too', async () => {
    // Act
    const janusLog = await readFile(lab.janus.logFile, 'utf8');

    // Assess
    expect(janusLog.length).toBeGreaterThan(1_000);
    expect(
      scanForSecrets(
        [{ source: 'janus.log', text: janusLog }],
        [
          { name: 'room pin', value: lab.janus.roomPin },
          { name: 'room token', value: lab.endpoints.room.token },
          { name: 'Janus API secret', value: lab.janus.apiSecret },
          { name: 'trunk password', value: trunkPassword },
          { name: 'TURN credential', value: turnCredential },
        ],
      ),
    ).toEqual([]);
  });

  it('uses the room pin: a wrong one is refused by the room, recorded without it', async () => {
    // Act
    const wrongPin = `wrong-${randomBytes(6).toString('hex')}`;
    const callId = await lab.client.enqueueDial({
      ...lab.dialRequest(),
      room: { ...lab.endpoints.room, roomId: LAB_PINNED_ROOM_ID, pin: wrongPin },
    });
    const record = await lab.client.waitForCall(callId, isFinal, { timeoutMs: 30_000 });

    // Assess
    expect(record.failure?.code).toBe('ROOM_JOIN_FAILED');
    expect(JSON.stringify(record)).not.toContain(wrongPin);
    const files = (await readdir(lab.dir)).filter((f) => f.startsWith('worker-'));
    const logs = await Promise.all(files.map((f) => readFile(join(lab.dir, f), 'utf8')));
    expect(logs.join('\n')).not.toContain(wrongPin);
  });
});
