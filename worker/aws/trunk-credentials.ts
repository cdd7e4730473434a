import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RoomlineError } from '../../contracts/errors.js';
import { parseTrunk, type TrunkCredentials, type TrunkSource } from '../trunks.js';

/**
 * SIP trunk credentials kept in AWS Secrets Manager, one secret per trunk, named `<prefix><trunk>` (by default
 * `roomline/trunks/<trunk>`). The secret's value is the trunk object documented in worker/trunks.ts (credentials and
 * settings); the credentials never travel in messages and are never logged.
 */

/** Default secret-name prefix: trunk `acme` lives in the secret `roomline/trunks/acme`. */
export const DEFAULT_TRUNK_SECRET_PREFIX = 'roomline/trunks/';

export { TrunkCredentials, trunkSecretSchema } from '../trunks.js';

/** The name of the secret holding a trunk's credentials. */
export function trunkSecretName(trunk: string, prefix: string = DEFAULT_TRUNK_SECRET_PREFIX): string {
  return `${prefix}${trunk}`;
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
export class TrunkCredentialStore implements TrunkSource {
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
    return parseTrunk(trunk, json, `secret ${secretId}`);
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
