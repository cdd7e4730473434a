import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { CALL_EVENT_DETAIL_TYPE, CALL_EVENT_SOURCE } from '../functions/call-events.js';

export interface CallEventsProps {
  readonly table: dynamodb.ITable;
  readonly eventBus: events.IEventBus | undefined;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Call state changes on an EventBridge bus: calls table stream → EventBridge Pipe (INSERT/MODIFY only) → enrichment
 * function keeping state changes only → bus, as `Roomline Call State Changed` events from source `roomline`.
 * Records the pipe cannot deliver after 10 retries land in a dead-letter queue.
 */
export class CallEvents extends Construct {
  readonly eventBus: events.IEventBus;
  readonly pipe: pipes.CfnPipe;
  readonly enrichment: NodejsFunction;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: CallEventsProps) {
    super(scope, id);
    const streamArn = props.table.tableStreamArn;
    if (streamArn === undefined) throw new Error('the calls table needs a stream for call events');
    this.eventBus = props.eventBus ?? new events.EventBus(this, 'Bus', { description: 'Roomline call state changes' });

    const logGroup = new logs.LogGroup(this, 'EnrichmentLogs', { retention: props.logRetention });
    const functionRole = new iam.Role(this, 'EnrichmentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Roomline call-events enrichment: writes its own logs only',
    });
    logGroup.grantWrite(functionRole);
    this.enrichment = new NodejsFunction(this, 'Enrichment', {
      entry: fileURLToPath(new URL('../functions/call-events.ts', import.meta.url)),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(10),
      role: functionRole,
      logGroup,
      bundling: { format: OutputFormat.ESM, target: 'node24', minify: true, sourceMap: false },
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the call-events pipe (the pipe, not a queue redrive, sends to it).',
    });

    const pipeRole = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Roomline call-events pipe: reads the calls table stream, invokes the enrichment, puts events',
    });
    pipeRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        resources: [streamArn],
      }),
    );
    pipeRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.enrichment.functionArn] }));
    pipeRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] }));
    pipeRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));

    this.pipe = new pipes.CfnPipe(this, 'Pipe', {
      description: 'Roomline: call state changes from the calls table to the event bus',
      roleArn: pipeRole.roleArn,
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: 'LATEST',
          batchSize: 10,
          maximumBatchingWindowInSeconds: 1,
          maximumRetryAttempts: 10,
          onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        },
        filterCriteria: { filters: [{ pattern: JSON.stringify({ eventName: ['INSERT', 'MODIFY'] }) }] },
      },
      enrichment: this.enrichment.functionArn,
      target: this.eventBus.eventBusArn,
      targetParameters: {
        eventBridgeEventBusParameters: { source: CALL_EVENT_SOURCE, detailType: CALL_EVENT_DETAIL_TYPE },
      },
    });
    this.pipe.node.addDependency(pipeRole);
  }
}
