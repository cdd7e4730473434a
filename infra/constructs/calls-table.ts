import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { CALLS_TABLE } from '../../worker/calls-table.js';

export interface CallsTableProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The calls table: one record per callId, on-demand, point-in-time recovery, TTL on finished calls, a stream of new
 * and old images (for call events), and the sparse `active-calls` index of calls not yet final.
 */
export class CallsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: CallsTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: CALLS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: CALLS_TABLE.ttlAttribute,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: CALLS_TABLE.activeIndexName,
      partitionKey: { name: CALLS_TABLE.activeIndexPartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: CALLS_TABLE.activeIndexSortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
