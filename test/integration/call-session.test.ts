import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDialRequest } from '../../contracts/dial-request.js';
import { RoomlineError } from '../../contracts/errors.js';
import { CallSession } from '../../worker/call-session.js';
import { claim, markLost, newQueuedRecord, requestHangup } from '../../worker/call-state.js';
import { createLogger } from '../../worker/logger.js';
import { waitUntil } from '../../lab/wait.js';
import { startEmulators, type EmulatorFixture } from '../support/emulators.js';
import { ScriptedPage } from '../support/scripted-page.js';

/**
 * The call session against the DynamoDB emulator, with a scripted bot page: the decisions that the end-to-end tests
 * cannot time precisely (a hangup while the dial command is out, a lease taken over, a page that gives no answer).
 */
const logger = createLogger({ level: 'silent' });
let fixture: EmulatorFixture;
beforeEach(async () => {
  fixture = await startEmulators();
});
afterEach(async () => {
  await fixture.stop();
});

let counter = 0;
/** A call claimed by worker w1, recorded in the table, and its session on a scripted page. */
async function claimedSession(options: { leaseMs?: number } = {}) {
  const callId = `call-${++counter}`;
  const request = {
    ...parseDialRequest({
      version: 1,
      callId,
      to: 'sip:alice@127.0.0.1:5090',
      room: { provider: 'janus', serverUrl: 'ws://127.0.0.1:8188/', roomId: 1234 },
    }),
    callId,
  };
  const leaseMs = options.leaseMs ?? 20_000;
  const record = claim(newQueuedRecord(request, new Date()), { request, workerId: 'w1', leaseMs, now: new Date() }).record;
  await fixture.store.create(record);
  const page = new ScriptedPage();
  const session = new CallSession({
    request,
    record,
    store: fixture.store,
    bridge: page,
    logger,
    workerId: 'w1',
    janusNode: 'ws://janus-a/',
    defaultFrom: 'sip:roomline@127.0.0.1',
    leaseMs,
    videoCaps: { width: 640, height: 480, fps: 30 },
    watchIntervalMs: 100,
  });
  return { callId, page, session };
}

describe('a call session on the emulator with a scripted page', () => {
  it('hangs up at once when its call was closed as WORKER_LOST by someone else, and writes nothing over it', async () => {
    const { callId, page, session } = await claimedSession();
    const outcome = session.run();
    await waitUntil(() => page.received('dial'), { timeoutMs: 2_000, what: 'the dial command' });
    page.emit({ type: 'sip-progress', event: 'accepted', code: 200 });
    await waitUntil(async () => (await fixture.store.get(callId))?.state === 'CONNECTED', { timeoutMs: 2_000, what: 'CONNECTED' });

    // a sweeper elsewhere found the lease run out (e.g. while this worker was cut off) and closed the call
    const closed = await fixture.store.update(callId, (current) => markLost(current!, new Date(), 'sweeper'));
    const closedAt = Date.now();

    const result = await outcome;
    const hangup = page.commands.find((c) => c.type === 'hangup');
    expect(hangup).toBeDefined();
    expect(hangup!.at - closedAt).toBeLessThan(1_000);
    expect(result.kind).toBe('final');
    const stored = await fixture.store.get(callId);
    expect(stored?.failure?.code).toBe('WORKER_LOST');
    expect(stored?.revision).toBe(closed.revision);
  });

  it('sends the hangup (a CANCEL) as soon as Janus took an INVITE that was still on its way when the hangup was asked', async () => {
    const { callId, page, session } = await claimedSession();
    page.dial = { delayMs: 600, reply: { kind: 'ok', result: { accepted: true } } };
    const outcome = session.run();
    await waitUntil(() => page.received('dial'), { timeoutMs: 2_000, what: 'the dial command' });

    await fixture.store.update(callId, (current) => requestHangup(current!, new Date()));

    const result = await outcome;
    expect(page.received('hangup')).toBe(true);
    const dialAt = page.commands.find((c) => c.type === 'dial')!.at;
    expect(page.commands.find((c) => c.type === 'hangup')!.at - dialAt).toBeGreaterThanOrEqual(550);
    expect(result.record).toMatchObject({ state: 'ENDED', endedBy: 'caller' });
    expect(result.record.history.at(-1)?.detail).toBe('cancelled before answer');
  });

  it('retries a call whose INVITE Janus did not take, and never one whose dial the page left unanswered', async () => {
    const refused = await claimedSession();
    refused.page.dial = {
      delayMs: 0,
      reply: { kind: 'failed', error: new RoomlineError('JANUS_UNAVAILABLE', 'the Janus connection is closed', { retryable: true }) },
    };
    const silent = await claimedSession();
    silent.page.dial = { delayMs: 0, reply: 'no-reply' };

    const [retried, final] = await Promise.all([refused.session.run(), silent.session.run()]);

    expect(retried).toMatchObject({ kind: 'retry', failure: { code: 'JANUS_UNAVAILABLE', retryable: true } });
    expect(refused.page.received('hangup')).toBe(false);
    expect(final.kind).toBe('final');
    expect(final.record.state).toBe('FAILED');
    expect(final.record.failure).toMatchObject({ code: 'BROWSER_FAILED', retryable: false });
    // the INVITE may have left: the session asks the page to hang it up
    expect(silent.page.received('hangup')).toBe(true);
  });

  it('fails a call FAILED BROWSER_CRASHED when Chromium dies after the INVITE, and retries one that had not dialed', async () => {
    const dialed = await claimedSession();
    const outcome = dialed.session.run();
    await waitUntil(() => dialed.page.received('dial'), { timeoutMs: 2_000, what: 'the dial command' });
    await sleep(50);
    const early = await claimedSession();
    early.page.dial = { delayMs: 5_000, reply: { kind: 'ok', result: { accepted: true } } };

    dialed.session.browserCrashed('Chromium disconnected');
    const retry = early.session.run();
    early.session.browserCrashed('Chromium disconnected');

    expect((await outcome).record.failure).toMatchObject({ code: 'BROWSER_CRASHED', retryable: false, fault: 'us' });
    expect(await retry).toMatchObject({ kind: 'retry', failure: { code: 'BROWSER_CRASHED' } });
  });

  it('on SIGTERM writes the final record within 5 s even when the hangup is never confirmed', async () => {
    const { callId, page, session } = await claimedSession();
    page.hangup = 'no-reply';
    const outcome = session.run();
    await waitUntil(() => page.received('dial'), { timeoutMs: 2_000, what: 'the dial command' });
    page.emit({ type: 'sip-progress', event: 'accepted', code: 200 });
    await waitUntil(async () => (await fixture.store.get(callId))?.state === 'CONNECTED', { timeoutMs: 2_000, what: 'CONNECTED' });
    const stoppedAt = Date.now();

    session.shutdown();

    const result = await outcome;
    const record = await fixture.store.get(callId);
    expect(result.kind).toBe('final');
    expect(record).toMatchObject({ state: 'ENDED', endedBy: 'system' });
    // the worker exits within 10 s of SIGTERM: the record must be written well before, leaving time to close Chromium
    expect(Date.parse(record!.timings!.endedAt!) - stoppedAt).toBeLessThan(5_000);
  });

  it('renews its lease on its own while the call lasts', async () => {
    const { callId, page, session } = await claimedSession({ leaseMs: 900 });
    const outcome = session.run();
    await waitUntil(() => page.received('dial'), { timeoutMs: 2_000, what: 'the dial command' });
    const first = (await fixture.store.get(callId))!.leaseExpiresAt!;

    await sleep(1_500);

    const later = (await fixture.store.get(callId))!;
    expect(later.leaseExpiresAt!).toBeGreaterThan(first + 900);
    expect(later.leaseExpiresAt!).toBeGreaterThan(Date.now());
    await fixture.store.update(callId, (current) => requestHangup(current!, new Date()));
    expect((await outcome).record.state).toBe('ENDED');
  });
});
