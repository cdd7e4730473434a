import { describe, expect, it } from 'vitest';
import { parseDialRequest } from '../../contracts/dial-request.js';
import { SIP_REGISTER_ANSWER_TIMEOUT_MS, SIP_REGISTER_REQUEST_TIMEOUT_MS, sipLegOptionsSchema, type PageCommand } from '../../contracts/page-rpc.js';
import { CallProgress } from '../../worker/call-progress.js';
import { CallSetup } from '../../worker/call-setup.js';
import type { CallPage, CallSessionOptions } from '../../worker/call-session-options.js';
import { SetupRecorder } from '../../worker/setup-recorder.js';
import { TrunkCredentials } from '../../worker/trunks.js';

const PAGE_TIMEOUT_MS = 15_000;

/** A page that answers every command at once and keeps the bound each was sent with. */
function recordingPage(): { page: CallPage; bounds: Map<string, number | undefined> } {
  const bounds = new Map<string, number | undefined>();
  const page = {
    request: async (command: PageCommand, timeoutMs?: number) => {
      bounds.set(command.type, timeoutMs);
      return { kind: 'ok', result: { accepted: true }, trace: undefined };
    },
  } as unknown as CallPage;
  return { page, bounds };
}

function trunk(register: boolean): TrunkCredentials {
  return new TrunkCredentials('pbx', {
    proxy: 'sip:pbx.example.com',
    username: 'sip:bridge@pbx.example.com',
    password: 'not a real password',
    register,
    transport: 'udp',
  } as ConstructorParameters<typeof TrunkCredentials>[1]);
}

async function dialBound(through: TrunkCredentials | undefined): Promise<number | undefined> {
  const { page, bounds } = recordingPage();
  const request = { ...parseDialRequest({ version: 1, to: 'sip:alice@example.com', room: { provider: 'janus', serverUrl: 'wss://janus.example.com/ws', roomId: 1234 } }), callId: 'c1' };
  const options = { request, bridge: page, pageTimeoutMs: PAGE_TIMEOUT_MS, defaultFrom: 'sip:roomline@example.com' } as unknown as CallSessionOptions;
  const setup = new CallSetup(options, new CallProgress(), request.media, new SetupRecorder(Date.now(), 'enqueued'));
  await setup.dial(request, through, sipLegOptionsSchema.parse({}));
  expect(bounds.has('dial')).toBe(true);
  return bounds.get('dial');
}

describe('the dial command bound', () => {
  it("outlasts the page's own bounds on a trunk's REGISTER, so a slow registrar ends as the registrar's answer, not as a page that did not answer", async () => {
    const bound = await dialBound(trunk(true));
    expect(bound).toBe(PAGE_TIMEOUT_MS + SIP_REGISTER_REQUEST_TIMEOUT_MS + SIP_REGISTER_ANSWER_TIMEOUT_MS);
  });

  it('is the usual page command bound for a trunk that does not register, and for a guest call', async () => {
    expect(await dialBound(trunk(false))).toBeUndefined();
    expect(await dialBound(undefined)).toBeUndefined();
  });
});
