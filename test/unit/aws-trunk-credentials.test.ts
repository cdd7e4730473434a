import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RoomlineError } from '../../contracts/errors.js';
import { TrunkCredentialStore, trunkSecretName } from '../../worker/aws/trunk-credentials.js';

/**
 * A stand-in for Secrets Manager on 127.0.0.1, speaking its JSON protocol (POST, X-Amz-Target
 * secretsmanager.GetSecretValue), so the real SDK client is exercised.
 */
class FakeSecretsManager {
  secrets = new Map<string, string>();
  failWith: { status: number; type: string } | undefined;
  readonly requested: string[] = [];
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId: string };
        this.requested.push(`${String(req.headers['x-amz-target'])} ${body.SecretId}`);
        const send = (status: number, payload: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(payload));
        };
        if (this.failWith !== undefined) return send(this.failWith.status, { __type: this.failWith.type, message: 'refused' });
        const value = this.secrets.get(body.SecretId);
        if (value === undefined) {
          return send(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        }
        return send(200, { ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${body.SecretId}-AbCdEf`, Name: body.SecretId, SecretString: value });
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

const VALID_SECRET = {
  proxy: 'sip:sip.trunk.example.com:5060',
  username: 'sip:roomline@sip.trunk.example.com',
  password: 'correct horse battery staple',
  authUsername: 'roomline',
};

describe('SIP trunk credentials from Secrets Manager', () => {
  const fake = new FakeSecretsManager();
  let client: SecretsManagerClient;

  beforeAll(async () => {
    const endpoint = await fake.start();
    client = new SecretsManagerClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await fake.stop();
  });
  beforeEach(() => {
    fake.secrets = new Map();
    fake.failWith = undefined;
    fake.requested.length = 0;
  });

  it('reads the secret named after the trunk under the default prefix', async () => {
    // Prepare
    fake.secrets.set('roomline/trunks/acme', JSON.stringify(VALID_SECRET));
    const store = new TrunkCredentialStore({ client });

    // Act
    const credentials = await store.get('acme');

    // Assess
    expect(fake.requested).toEqual(['secretsmanager.GetSecretValue roomline/trunks/acme']);
    expect(credentials).toMatchObject({
      trunk: 'acme',
      proxy: VALID_SECRET.proxy,
      username: VALID_SECRET.username,
      authUsername: 'roomline',
      register: false,
    });
    expect(credentials.password).toBe(VALID_SECRET.password);
  });

  it('uses a configured prefix', async () => {
    // Prepare
    fake.secrets.set('prod/sip/acme', JSON.stringify({ ...VALID_SECRET, register: true }));
    const store = new TrunkCredentialStore({ client, prefix: 'prod/sip/' });

    // Act
    const credentials = await store.get('acme');

    // Assess
    expect(trunkSecretName('acme', 'prod/sip/')).toBe('prod/sip/acme');
    expect(credentials.register).toBe(true);
  });

  it('never shows the password when the credentials are logged, stringified or inspected', async () => {
    // Prepare
    fake.secrets.set('roomline/trunks/acme', JSON.stringify(VALID_SECRET));
    const credentials = await new TrunkCredentialStore({ client }).get('acme');

    // Act
    const printed = [JSON.stringify(credentials), inspect(credentials), inspect({ nested: credentials }, { depth: 5 }), `${JSON.stringify({ credentials })}`];

    // Assess
    for (const text of printed) {
      expect(text).not.toContain(VALID_SECRET.password);
      expect(text).toContain('[redacted]');
    }
    expect(Object.keys(credentials)).not.toContain('password');
  });

  it('reports a trunk without a secret as TRUNK_UNKNOWN, the caller fault, final', async () => {
    // Prepare
    const store = new TrunkCredentialStore({ client });

    // Act
    const failure = await store.get('nobody').catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(RoomlineError);
    expect(failure).toMatchObject({ code: 'TRUNK_UNKNOWN', fault: 'caller', retryable: false });
    expect((failure as Error).message).toContain('roomline/trunks/nobody');
  });

  it('reports a malformed secret as a final INTERNAL error naming the fields but not the values', async () => {
    // Prepare
    fake.secrets.set('roomline/trunks/acme', JSON.stringify({ proxy: 'not-a-uri', username: VALID_SECRET.username, password: 'hunter2-secret', extra: 1 }));
    const store = new TrunkCredentialStore({ client });

    // Act
    const failure = await store.get('acme').catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'INTERNAL', retryable: false });
    expect((failure as Error).message).toMatch(/proxy: /);
    expect((failure as Error).message).not.toContain('hunter2-secret');
  });

  it('reports a secret that is not JSON without echoing it', async () => {
    // Prepare
    fake.secrets.set('roomline/trunks/acme', 'password=hunter2-secret');
    const store = new TrunkCredentialStore({ client });

    // Act
    const failure = await store.get('acme').catch((error: unknown) => error);

    // Assess
    expect((failure as Error).message).toBe('secret roomline/trunks/acme of trunk "acme" is not JSON');
  });

  it('reports missing permission as final and an unavailable service as retryable', async () => {
    // Prepare
    const store = new TrunkCredentialStore({ client });

    // Act
    fake.failWith = { status: 400, type: 'AccessDeniedException' };
    const denied = await store.get('acme').catch((error: unknown) => error);
    fake.failWith = { status: 500, type: 'InternalServiceError' };
    const unavailable = await store.get('acme').catch((error: unknown) => error);

    // Assess
    expect(denied).toMatchObject({ code: 'INTERNAL', retryable: false });
    expect((denied as Error).message).toContain('may not read secret roomline/trunks/acme');
    expect(unavailable).toMatchObject({ code: 'INTERNAL', retryable: true });
  });
});
