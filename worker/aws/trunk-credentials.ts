import { inspect } from 'node:util';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { sipUriSchema } from '../../contracts/dial-request.js';
import { PROXY_URI_PARAMS, sipUriSchemaWith } from '../../contracts/sip-uri.js';
import { RoomlineError } from '../../contracts/errors.js';

/**
 * SIP trunk credentials, kept in AWS Secrets Manager, one secret per trunk, named `<prefix><trunk>` (by default
 * `roomline/trunks/<trunk>`). A dial request names the trunk; the credentials never travel in messages and are never
 * logged: `TrunkCredentials` prints as `[redacted]` in logs, `JSON.stringify` and `util.inspect`.
 *
 * The secret's value is a JSON object (version 1):
 *
 * ```json
 * {
 *   "proxy": "sip:sip.trunk.example.com:5060",
 *   "username": "sip:roomline@sip.trunk.example.com",
 *   "password": "…",
 *   "authUsername": "roomline",
 *   "realm": "sip.trunk.example.com",
 *   "register": false
 * }
 * ```
 *
 * - `proxy`: the trunk's SIP proxy (Janus SIP plugin `proxy`). Required.
 * - `username`: the identity on the trunk, a SIP URI (Janus `username`; also the default From). Required.
 * - `password`: the digest secret (Janus `secret`). Required.
 * - `authUsername`: user name for digest authentication when it differs from the URI's user part (Janus `authuser`).
 * - `realm`: the realm the trunk challenges with, for documentation and checks. Optional.
 * - `register`: send a REGISTER before calling (Janus `send_register`); with `false` the credentials only answer the
 *   trunk's 401/407 challenges to the INVITE. @default false
 */

/** Default secret-name prefix: trunk `acme` lives in the secret `roomline/trunks/acme`. */
export const DEFAULT_TRUNK_SECRET_PREFIX = 'roomline/trunks/';

export const trunkSecretSchema = z.strictObject({
  proxy: sipUriSchemaWith(PROXY_URI_PARAMS),
  username: sipUriSchema,
  password: z.string().min(1, 'must not be empty').max(1024),
  authUsername: z.string().min(1).max(256).optional(),
  realm: z.string().min(1).max(256).optional(),
  register: z.boolean().default(false),
});

/** The name of the secret holding a trunk's credentials. */
export function trunkSecretName(trunk: string, prefix: string = DEFAULT_TRUNK_SECRET_PREFIX): string {
  return `${prefix}${trunk}`;
}

/** A trunk's credentials. Its password is readable through `password`, and hidden from every printed form. */
export class TrunkCredentials {
  readonly trunk: string;
  readonly proxy: string;
  readonly username: string;
  readonly authUsername: string | undefined;
  readonly realm: string | undefined;
  readonly register: boolean;
  readonly #password: string;

  constructor(trunk: string, secret: z.output<typeof trunkSecretSchema>) {
    this.trunk = trunk;
    this.proxy = secret.proxy;
    this.username = secret.username;
    this.authUsername = secret.authUsername;
    this.realm = secret.realm;
    this.register = secret.register;
    this.#password = secret.password;
  }

  /** The digest secret: pass it to Janus only. */
  get password(): string {
    return this.#password;
  }

  /** What logs may show: everything but the password. */
  toJSON(): Record<string, unknown> {
    return {
      trunk: this.trunk,
      proxy: this.proxy,
      username: this.username,
      register: this.register,
      password: '[redacted]',
    };
  }

  [inspect.custom](): string {
    return `TrunkCredentials ${JSON.stringify(this.toJSON())}`;
  }
}

export interface TrunkCredentialStoreOptions {
  /** Secrets Manager client (its region and credentials come from the task role). */
  readonly client: SecretsManagerClient;
  /** Secret-name prefix. @default "roomline/trunks/" */
  readonly prefix?: string;
}

/**
 * Looks trunk credentials up in Secrets Manager. A worker handles one call, so there is no cache: each lookup reads
 * the secret's current version (rotation needs no restart).
 *
 * Errors (`RoomlineError`): `TRUNK_UNKNOWN` when no such secret exists (the caller's fault, final); `INTERNAL` final
 * when the secret is not valid JSON of the documented shape or the task may not read it; `INTERNAL` retryable when
 * Secrets Manager is unavailable or throttles. Messages name the secret and the invalid fields, never a value.
 */
export class TrunkCredentialStore {
  readonly #client: SecretsManagerClient;
  readonly #prefix: string;

  constructor(options: TrunkCredentialStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? DEFAULT_TRUNK_SECRET_PREFIX;
  }

  async get(trunk: string): Promise<TrunkCredentials> {
    const secretId = trunkSecretName(trunk, this.#prefix);
    let secretString: string | undefined;
    try {
      const output = await this.#client.send(new GetSecretValueCommand({ SecretId: secretId }));
      secretString = output.SecretString;
    } catch (error) {
      throw classifyLookupError(error, trunk, secretId);
    }
    if (secretString === undefined) {
      throw new RoomlineError('INTERNAL', `secret ${secretId} of trunk "${trunk}" has no string value (binary secrets are not supported)`);
    }
    let json: unknown;
    try {
      json = JSON.parse(secretString);
    } catch {
      throw new RoomlineError('INTERNAL', `secret ${secretId} of trunk "${trunk}" is not JSON`);
    }
    const parsed = trunkSecretSchema.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(secret)'}: ${issue.message}`).join('; ');
      throw new RoomlineError('INTERNAL', `secret ${secretId} of trunk "${trunk}" is invalid: ${fields}`);
    }
    return new TrunkCredentials(trunk, parsed.data);
  }
}

function classifyLookupError(error: unknown, trunk: string, secretId: string): RoomlineError {
  const name = error instanceof Error ? error.name : 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  switch (name) {
    case 'ResourceNotFoundException':
      return new RoomlineError('TRUNK_UNKNOWN', `no SIP trunk named "${trunk}" (secret ${secretId} does not exist)`, { cause: error });
    case 'AccessDeniedException':
    case 'DecryptionFailure':
      return new RoomlineError('INTERNAL', `the worker may not read secret ${secretId} of trunk "${trunk}" (${name})`, { cause: error });
    default: {
      const retryable = status === undefined || status >= 500 || status === 429 || name.includes('Throttl');
      return new RoomlineError('INTERNAL', `could not read secret ${secretId} of trunk "${trunk}" (${name})`, { retryable, cause: error });
    }
  }
}
