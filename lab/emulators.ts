import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CALLS_TABLE } from '../worker/calls-table.js';
import { LabSecretsManager } from './secrets-manager.js';

type FauxqsServer = Awaited<ReturnType<(typeof import('fauxqs'))['startFauxqs']>>;

export const LAB_REGION = 'us-east-1';
/** Credentials the emulators accept; they check nothing, the SDK only needs some. */
export const LAB_CREDENTIALS = { accessKeyId: 'roomline-lab', secretAccessKey: 'roomline-lab' } as const;

export interface EmulatorOptions {
  /** Receives before a message is moved to the dead-letter queue. @default 3 */
  readonly maxReceives?: number;
  /** Default visibility timeout of the dial queue, in seconds. @default 30 */
  readonly visibilityTimeoutS?: number;
}

/**
 * The AWS side of the lab, in this process: SQS (fauxqs) with the dial queue and its dead-letter queue, DynamoDB
 * (dynalite) with the calls table, both on the host's loopback and reached through the real AWS SDK.
 */
export class Emulators {
  private constructor(
    private readonly sqs: FauxqsServer,
    private readonly dynamo: Server,
    /** Secrets Manager (trunk credentials), GetSecretValue only. */
    readonly secrets: LabSecretsManager,
    readonly sqsEndpoint: string,
    readonly dynamodbEndpoint: string,
    readonly queueUrl: string,
    readonly deadLetterQueueUrl: string,
    readonly tableName: string,
  ) {}

  static async start(options: EmulatorOptions = {}): Promise<Emulators> {
    // loaded here, not at the top: only the lab needs the emulators
    const [{ startFauxqs }, { default: dynalite }] = await Promise.all([import('fauxqs'), import('dynalite')]);
    // fauxqs binds all interfaces (not configurable); clients reach it on 127.0.0.1 and queue URLs name *.localhost
    const sqs = await startFauxqs({ port: 0, logger: false });
    const dlq = sqs.createQueue('roomline-dial-dlq');
    const queue = sqs.createQueue('roomline-dial', {
      attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutS ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlq.queueArn,
          maxReceiveCount: String(options.maxReceives ?? 3),
        }),
      },
    });
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    await new Promise<void>((resolve, reject) => dynamo.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
    const address = dynamo.address();
    if (address === null || typeof address === 'string') throw new Error('dynalite has no TCP address');
    const dynamodbEndpoint = `http://127.0.0.1:${address.port}`;
    const tableName = 'roomline-calls';
    await createCallsTable(dynamodbEndpoint, tableName);
    const secrets = await LabSecretsManager.start();
    return new Emulators(sqs, dynamo, secrets, sqs.address, dynamodbEndpoint, queue.queueUrl, dlq.queueUrl, tableName);
  }

  /** Environment for a client, CLI or worker using these emulators. */
  env(): Record<string, string> {
    return {
      AWS_REGION: LAB_REGION,
      AWS_ACCESS_KEY_ID: LAB_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LAB_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: this.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamodbEndpoint,
      ROOMLINE_QUEUE_URL: this.queueUrl,
      ROOMLINE_TABLE: this.tableName,
      // trunk credentials from the lab's Secrets Manager stand-in, on loopback, never from AWS
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.secrets.endpoint,
    };
  }

  /** SDK clients for these emulators. */
  sqsClient(): SQSClient {
    return new SQSClient({ endpoint: this.sqsEndpoint, region: LAB_REGION, credentials: LAB_CREDENTIALS });
  }

  dynamodbClient(): DynamoDBClient {
    return new DynamoDBClient({ endpoint: this.dynamodbEndpoint, region: LAB_REGION, credentials: LAB_CREDENTIALS });
  }

  async stop(): Promise<void> {
    await this.sqs.stop();
    await new Promise((resolve) => this.dynamo.close(resolve));
    await this.secrets.stop();
  }
}

/** The calls table as the CDK construct defines it: key, sparse active-calls index (TTL is not emulated). */
export async function createCallsTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LAB_REGION, credentials: LAB_CREDENTIALS });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: CALLS_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: CALLS_TABLE.activeIndexPartitionKey, AttributeType: 'S' },
          { AttributeName: CALLS_TABLE.activeIndexSortKey, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: CALLS_TABLE.partitionKey, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: CALLS_TABLE.activeIndexName,
            KeySchema: [
              { AttributeName: CALLS_TABLE.activeIndexPartitionKey, KeyType: 'HASH' },
              { AttributeName: CALLS_TABLE.activeIndexSortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } finally {
    client.destroy();
  }
}
