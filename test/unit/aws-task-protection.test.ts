import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RoomlineError } from '../../contracts/errors.js';
import { MAX_PROTECTION_MINUTES, TaskProtection, protectionMinutesFor } from '../../worker/aws/task-protection.js';

interface SeenRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

/** A stand-in for the ECS agent on 127.0.0.1: records requests and answers what the test says. */
class FakeEcsAgent {
  readonly seen: SeenRequest[] = [];
  reply: (request: SeenRequest) => { status: number; body: unknown } = (request) => ({
    status: 200,
    body: {
      protection: {
        ProtectionEnabled: (request.body as { ProtectionEnabled?: boolean } | undefined)?.ProtectionEnabled ?? false,
        ExpirationDate: '2026-01-01T01:00:00Z',
        TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/roomline/0123456789abcdef0123456789abcdef',
      },
    },
  });
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      void readBody(req).then((text) => {
        const request: SeenRequest = {
          method: req.method,
          url: req.url,
          contentType: req.headers['content-type'],
          body: text === '' ? undefined : JSON.parse(text),
        };
        this.seen.push(request);
        const { status, body } = this.reply(request);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/api/0123456789abcdef-1234567890`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('ECS task scale-in protection', () => {
  let agent: FakeEcsAgent;
  let agentUri: string;

  beforeEach(async () => {
    agent = new FakeEcsAgent();
    agentUri = await agent.start();
  });
  afterEach(async () => {
    await agent.stop();
  });

  it('protects the task with a JSON PUT to the agent state endpoint and reports the agent state', async () => {
    // Prepare
    const protection = new TaskProtection({ agentUri });

    // Act
    const result = await protection.protect(65);

    // Assess
    expect(agent.seen).toEqual([
      {
        method: 'PUT',
        url: '/api/0123456789abcdef-1234567890/task-protection/v1/state',
        contentType: 'application/json',
        body: { ProtectionEnabled: true, ExpiresInMinutes: 65 },
      },
    ]);
    expect(result).toEqual({
      kind: 'applied',
      state: {
        protectionEnabled: true,
        expirationDate: '2026-01-01T01:00:00Z',
        taskArn: expect.stringContaining(':task/roomline/'),
      },
    });
  });

  it('caps the protection at 48 hours and rounds minutes up', async () => {
    // Prepare
    const protection = new TaskProtection({ agentUri });

    // Act
    await protection.protect(10_000);
    await protection.protect(1.2);

    // Assess
    expect(agent.seen.map((r) => (r.body as { ExpiresInMinutes: number }).ExpiresInMinutes)).toEqual([MAX_PROTECTION_MINUTES, 2]);
  });

  it('removes the protection with ProtectionEnabled false and no expiry', async () => {
    // Prepare
    const protection = new TaskProtection({ agentUri });

    // Act
    const result = await protection.unprotect();

    // Assess
    expect(agent.seen[0]?.body).toEqual({ ProtectionEnabled: false });
    expect(result.kind === 'applied' && result.state.protectionEnabled).toBe(false);
  });

  it('reads the current state with a GET', async () => {
    // Prepare
    const protection = new TaskProtection({ agentUri });

    // Act
    const result = await protection.state();

    // Assess
    expect(agent.seen.map((r) => r.method)).toEqual(['GET']);
    expect(result.kind).toBe('applied');
  });

  it('reports a refusal by the agent as a final error carrying the agent reason', async () => {
    // Prepare
    agent.reply = () => ({
      status: 400,
      body: { failure: { Arn: 'arn:aws:ecs:task', Reason: 'TASK_NOT_VALID', Detail: 'task is not part of a service' } },
    });
    const protection = new TaskProtection({ agentUri });

    // Act
    const failure = await protection.protect(10).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(RoomlineError);
    expect(failure).toMatchObject({ code: 'INTERNAL', retryable: false });
    expect((failure as Error).message).toMatch(/could not protect the task: ECS agent answered 400 \(TASK_NOT_VALID: task is not part of a service\)/);
  });

  it('reports agent trouble (5xx, throttling) as retryable, with the error code', async () => {
    // Prepare
    agent.reply = () => ({ status: 500, body: { error: { Code: 'ThrottlingException', Message: 'Rate exceeded' } } });
    const protection = new TaskProtection({ agentUri });

    // Act
    const failure = await protection.unprotect().catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'INTERNAL', retryable: true });
    expect((failure as Error).message).toContain('could not unprotect the task: ECS agent answered 500 (ThrottlingException: Rate exceeded)');
  });

  it('reports an answer that is not the agent format as an error with the HTTP status', async () => {
    // Prepare
    agent.reply = () => ({ status: 502, body: '<html>bad gateway</html>' });
    const protection = new TaskProtection({ agentUri });

    // Act
    const failure = await protection.state().catch((error: unknown) => error);

    // Assess
    expect((failure as Error).message).toContain('ECS agent answered 502 (HTTP 502)');
  });

  it('reports an unreachable agent as a retryable error', async () => {
    // Prepare
    await agent.stop();
    const protection = new TaskProtection({ agentUri, timeoutMs: 2_000 });

    // Act
    const failure = await protection.protect(5).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'INTERNAL', retryable: true });
    expect((failure as Error).message).toMatch(/ECS agent unreachable/);
    agent = new FakeEcsAgent();
    await agent.start();
  });

  it('refuses a protection shorter than one minute without calling the agent', async () => {
    // Prepare
    const protection = new TaskProtection({ agentUri });

    // Act
    const failure = await protection.protect(0).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).message).toMatch(/at least 1 minute/);
    expect(agent.seen).toEqual([]);
  });

  it('does nothing off ECS (no agent URI)', async () => {
    // Prepare
    const protection = new TaskProtection({ agentUri: undefined });

    // Act
    const results = [await protection.protect(10), await protection.unprotect(), await protection.state()];

    // Assess
    expect(protection.onEcs).toBe(false);
    expect(results).toEqual([{ kind: 'not-on-ecs' }, { kind: 'not-on-ecs' }, { kind: 'not-on-ecs' }]);
    expect(agent.seen).toEqual([]);
  });
});

describe('protection length of a call', () => {
  it('covers ringing and the longest call plus a margin; the longest call a request may ask for fits the agent limit', () => {
    // Prepare
    const limits = { ringTimeoutS: 45, maxDurationS: 3_600 };

    // Act
    const minutes = protectionMinutesFor(limits);
    const longest = protectionMinutesFor({ ringTimeoutS: 600, maxDurationS: 86_400 });

    // Assess
    expect(minutes).toBe(Math.ceil((45 + 3_600) / 60) + 5);
    expect(longest).toBe(Math.ceil((600 + 86_400) / 60) + 5);
    expect(longest).toBeLessThanOrEqual(MAX_PROTECTION_MINUTES);
  });
});
