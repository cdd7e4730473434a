import type { PolicyStatement } from './task-definitions.js';

/**
 * A small IAM evaluation for the lab: does a role's set of Allow statements allow an action on a resource (action
 * and resource patterns with `*` and `?`, actions case-insensitive)? No Deny, conditions, boundaries or SCPs: the
 * templates the lab reads have none, and real IAM evaluation is one of the things only AWS can show.
 */
export function allows(statements: readonly PolicyStatement[], action: string, resource: string): boolean {
  return statements.some(
    (s) => s.actions.some((a) => matches(a, action, true)) && s.resources.some((r) => matches(r, resource, false)),
  );
}

function matches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** One AWS API call as the lab's SDK middleware recorded it (lab/containers/aws-call-recorder.mjs). */
export interface RecordedAwsCall {
  readonly at: number;
  readonly client: string;
  readonly command: string;
  readonly resources: {
    readonly QueueUrl?: string;
    readonly TableName?: string;
    readonly IndexName?: string;
    readonly SecretId?: string;
    readonly MeetingId?: string;
    readonly RequestItems?: readonly string[];
  };
  readonly ok: boolean;
  readonly error?: string;
}

/** The IAM action and resource a recorded call is authorized as. */
export interface AuthorizedAs {
  readonly action: string;
  readonly resource: string;
}

const SERVICE_OF_CLIENT: Readonly<Record<string, string>> = {
  SQSClient: 'sqs',
  DynamoDBClient: 'dynamodb',
  DynamoDBDocumentClient: 'dynamodb',
  SecretsManagerClient: 'secretsmanager',
  ChimeSDKMeetingsClient: 'chime',
};

/**
 * What IAM checks for a call: `<service>:<Operation>` on the ARN of the resource it names (a BatchGetItem checks each
 * table it reads). Names become ARNs in the lab's account and region; a secret named by name gets the six characters
 * Secrets Manager appends to every secret's ARN.
 */
export function authorizationOf(call: RecordedAwsCall, account: string, region: string): AuthorizedAs[] {
  const service = SERVICE_OF_CLIENT[call.client];
  if (service === undefined) throw new Error(`the lab knows no IAM service for the AWS client ${call.client}`);
  const operation = call.command.replace(/Command$/, '');
  const action = `${service}:${operation}`;
  const arn = (resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
  const r = call.resources;
  switch (service) {
    case 'sqs': {
      const name = r.QueueUrl?.split('/').at(-1);
      if (name === undefined) throw new Error(`${call.command} named no queue`);
      return [{ action, resource: arn(name) }];
    }
    case 'dynamodb': {
      const tables = r.RequestItems ?? (r.TableName === undefined ? [] : [r.TableName]);
      if (tables.length === 0) throw new Error(`${call.command} named no table`);
      return tables.map((table) => ({ action, resource: arn(`table/${table}${r.IndexName === undefined ? '' : `/index/${r.IndexName}`}`) }));
    }
    case 'secretsmanager': {
      const id = r.SecretId;
      if (id === undefined) throw new Error(`${call.command} named no secret`);
      return [{ action, resource: id.startsWith('arn:') ? id : arn(`secret:${id}-AbCdEf`) }];
    }
    case 'chime': {
      if (r.MeetingId === undefined) throw new Error(`${call.command} named no meeting`);
      return [{ action, resource: arn(`meeting/${r.MeetingId}`) }];
    }
    default:
      throw new Error(`no resource rule for ${service}`);
  }
}
