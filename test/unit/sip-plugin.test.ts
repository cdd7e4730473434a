import { describe, expect, it } from 'vitest';
import type { HandleEvent, JanusHandle, JanusSession } from '../../bot-page/janus/janus-client.js';
import type { SipAccount } from '../../contracts/page-rpc.js';
import { SipPluginHandle } from '../../bot-page/janus/sip-plugin.js';

// The SIP plugin handle's REGISTER: the plugin answers `registering` at once, and the registrar's answer comes later
// as an event of the handle. A fake JanusHandle stands in for Janus (the e2e trunk tests run the real one).
class FakeHandle {
  listener: ((event: HandleEvent) => void) | undefined;
  readonly bodies: Record<string, unknown>[] = [];
  /** An event the handle delivers before it answers the request (the SIP stack's thread was first). */
  before: Record<string, unknown> | undefined;
  listen(listener: (event: HandleEvent) => void): void {
    this.listener = listener;
  }
  request(body: Record<string, unknown>): Promise<{ data: Record<string, unknown> }> {
    this.bodies.push(body);
    if (this.before !== undefined) this.emit(this.before);
    return Promise.resolve({ data: { sip: 'event', result: { event: 'registering' } } });
  }
  emit(data: Record<string, unknown>): void {
    this.listener?.({ kind: 'plugin', data });
  }
}

async function registering(before?: Record<string, unknown>): Promise<{ fake: FakeHandle; outcome: ReturnType<SipPluginHandle['register']> }> {
  const fake = new FakeHandle();
  fake.before = before;
  const session = { attach: () => Promise.resolve(fake as unknown as JanusHandle) } as unknown as JanusSession;
  const handle = await SipPluginHandle.attach(session);
  const account: SipAccount = { username: 'sip:roomline@trunk.example', secret: 'not-logged', proxy: 'sip:198.51.100.1', register: true };
  const outcome = handle.register({ kind: 'account', account }, 1_000);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return { fake, outcome };
}

describe('a trunk REGISTER on the SIP plugin handle', () => {
  it("ends with the registrar's refusal and its code", async () => {
    // Arrange
    const { fake, outcome } = await registering();

    // Act
    fake.emit({ sip: 'event', result: { event: 'registration_failed', code: 904, reason: 'Operation has no matching challenge' } });

    // Assess
    expect(fake.bodies[0]).toMatchObject({ request: 'register' });
    await expect(outcome).resolves.toEqual({ registered: false, code: 904, reason: 'Operation has no matching challenge' });
  });

  it("takes the registrar's answer that Janus pushed before its own 'registering' (under another transaction)", async () => {
    // Arrange, Act: the SIP stack's thread had the trunk's refusal before the plugin's thread answered the request
    const { outcome } = await registering({ sip: 'event', result: { event: 'registration_failed', code: 904, reason: 'Operation has no matching challenge' } });

    // Assess: not left waiting for the answer bound (15 s)
    await expect(outcome).resolves.toEqual({ registered: false, code: 904, reason: 'Operation has no matching challenge' });
  });

  it('ends at once, with the plugin reason, when the plugin reports an error instead of an answer', async () => {
    // Arrange
    const { fake, outcome } = await registering();

    // Act
    fake.emit({ sip: 'event', error_code: 446, error: 'Missing element (proxy)' });

    // Assess: not left waiting for the answer bound (15 s)
    await expect(outcome).resolves.toEqual({ registered: false, code: 446, reason: 'Missing element (proxy)' });
  });

  it('reports a registration the registrar accepted', async () => {
    // Arrange
    const { fake, outcome } = await registering();

    // Act
    fake.emit({ sip: 'event', result: { event: 'registered', master_id: 7 } });

    // Assess
    await expect(outcome).resolves.toEqual({ registered: true, masterId: 7 });
  });
});
