import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The lab's stand-in for AWS Secrets Manager: GetSecretValue over its JSON protocol (POST, `X-Amz-Target:
 * secretsmanager.GetSecretValue`, application/x-amz-json-1.1) on 127.0.0.1, so a worker reads trunk credentials
 * through the real SDK client as it does on AWS. It serves the secrets put into it, nothing else.
 */
export class LabSecretsManager {
  private readonly secrets = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<LabSecretsManager> {
    let self: LabSecretsManager | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const send = (status: number, payload: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(payload));
        };
        if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
          send(400, { __type: 'InvalidRequestException', message: 'the lab serves GetSecretValue only' });
          return;
        }
        let secretId: unknown;
        try {
          secretId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: unknown }).SecretId;
        } catch {
          secretId = undefined;
        }
        const value = typeof secretId === 'string' ? self?.secrets.get(secretId) : undefined;
        if (typeof secretId !== 'string' || value === undefined) {
          send(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
          return;
        }
        send(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}-lab000`,
          Name: secretId,
          SecretString: value,
          VersionId: 'lab-1',
          CreatedDate: Math.floor(Date.now() / 1000),
        });
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    self = new LabSecretsManager(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /** Creates or replaces a secret's string value. */
  put(name: string, value: string): void {
    this.secrets.set(name, value);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
