import { randomBytes } from 'node:crypto';
import { ROUTES_TABLE } from '../../contracts/dial-in.js';
import { CALLS_TABLE } from '../../worker/calls-table.js';
import type { CfnTemplate, LabBindings } from './task-definitions.js';
import { VPC_NETWORK } from './vpc.js';

/**
 * What the deploy-time references of a Roomline template are in the lab: the dial queue and the two tables are the
 * emulators' (recognised by their shape: the queue with a redrive policy, the tables by their keys), every
 * generated secret gets a value of the form its template asks for, the static addresses come from the VPC's public
 * range, security groups go by their logical ids. The account is 000000000000, the region the emulators'.
 */
export const LAB_ACCOUNT = '000000000000';

export interface LabResources {
  readonly region: string;
  readonly queueUrl: string;
  readonly queueName: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueName: string;
  readonly tableName: string;
  readonly routesTableName: string;
}

export interface BoundTemplate {
  readonly bindings: LabBindings;
  /** The generated secrets: their ARN (what ECS reads) and the value the lab gave each. */
  readonly secrets: ReadonlyMap<string, { readonly arn: string; readonly value: string }>;
  /** The static public addresses (Elastic IPs) by logical id. */
  readonly addresses: ReadonlyMap<string, string>;
}

export function bindTemplate(template: CfnTemplate, lab: LabResources): BoundTemplate {
  const arn = (service: string, resource: string, region = lab.region) => `arn:aws:${service}:${region}:${LAB_ACCOUNT}:${resource}`;
  const refs = new Map<string, string>([
    ['AWS::Region', lab.region],
    ['AWS::AccountId', LAB_ACCOUNT],
    ['AWS::Partition', 'aws'],
    ['AWS::URLSuffix', 'amazonaws.com'],
  ]);
  const attributes = new Map<string, string>();
  const secrets = new Map<string, { arn: string; value: string }>();
  const addresses = new Map<string, string>();
  let nextAddress = 100;
  const queues = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
  const dial = queues.filter(([, r]) => r.Properties?.['RedrivePolicy'] !== undefined);
  if (dial.length !== 1) throw new Error(`expected one queue with a redrive policy (the dial queue), found ${dial.length}`);
  const [dialId, dialQueue] = dial[0]!;
  refs.set(dialId, lab.queueUrl);
  attributes.set(`${dialId}.Arn`, arn('sqs', lab.queueName));
  const deadLetter = JSON.stringify(dialQueue.Properties?.['RedrivePolicy']).match(/"Fn::GetAtt":\["([^"]+)"/)?.[1];
  if (deadLetter !== undefined) {
    refs.set(deadLetter, lab.deadLetterQueueUrl);
    attributes.set(`${deadLetter}.Arn`, arn('sqs', lab.deadLetterQueueName));
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table': {
        const key = (props['KeySchema'] as { AttributeName: string; KeyType: string }[] | undefined)?.find((k) => k.KeyType === 'HASH')?.AttributeName;
        const name = key === CALLS_TABLE.partitionKey ? lab.tableName : key === ROUTES_TABLE.partitionKey ? lab.routesTableName : undefined;
        if (name === undefined) break;
        refs.set(id, name);
        attributes.set(`${id}.Arn`, arn('dynamodb', `table/${name}`));
        break;
      }
      case 'AWS::SecretsManager::Secret': {
        const generate = props['GenerateSecretString'] as { PasswordLength?: number; ExcludePunctuation?: boolean } | undefined;
        if (generate === undefined) break;
        const secretArn = arn('secretsmanager', `secret:${id}-lab000`);
        secrets.set(id, { arn: secretArn, value: generatedSecret(generate.PasswordLength ?? 32, generate.ExcludePunctuation === true) });
        refs.set(id, secretArn);
        break;
      }
      case 'AWS::EC2::EIP': {
        const ip = `203.0.113.${nextAddress++}`;
        addresses.set(id, ip);
        attributes.set(`${id}.PublicIp`, ip);
        attributes.set(`${id}.AllocationId`, `eipalloc-${id.toLowerCase().slice(0, 17)}`);
        break;
      }
      case 'AWS::EC2::VPC':
        attributes.set(`${id}.CidrBlock`, VPC_NETWORK.cidr);
        break;
      case 'AWS::EC2::SecurityGroup':
        attributes.set(`${id}.GroupId`, id);
        break;
      case 'AWS::IAM::Role':
        attributes.set(`${id}.Arn`, `arn:aws:iam::${LAB_ACCOUNT}:role/${id}`);
        break;
      default:
        break;
    }
  }
  // any other resource's ARN (log groups, the event bus...): only policies name them, and no worker call does
  const anyArn = (id: string) => {
    const type = template.Resources[id]?.Type;
    return type === undefined ? undefined : arn(type.split('::')[1]?.toLowerCase() ?? 'lab', `${type.split('::')[2] ?? 'resource'}/${id}`);
  };
  return {
    bindings: { ref: (id) => refs.get(id), attribute: (id, name) => attributes.get(`${id}.${name}`) ?? (name === 'Arn' ? anyArn(id) : undefined) },
    secrets,
    addresses,
  };
}

/** A random value as Secrets Manager generates it: letters and digits, and punctuation unless excluded. */
function generatedSecret(length: number, excludePunctuation: boolean): string {
  const alphabet = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789${excludePunctuation ? '' : '!#$%&()*+,-.:;<=>?@[]^_{|}~'}`;
  const bytes = randomBytes(length);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}
