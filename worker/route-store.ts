import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ROUTES_TABLE, routeInputSchema, routeKey, type Route } from '../contracts/dial-in.js';
import { describeIssues } from '../contracts/dial-request.js';
import { RoomlineError } from '../contracts/errors.js';

/**
 * The routes table (DynamoDB): one item per route, keyed by its match (`number:<digits>`, `header:<name>:<value>`).
 * A lookup is one BatchGet of the few keys an inbound call can match; nothing scans the table on a call's path.
 */
export class RouteStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    readonly tableName: string,
    options: { client?: DynamoDBClient; region?: string } = {},
  ) {
    const client = options.client ?? new DynamoDBClient(options.region === undefined ? {} : { region: options.region });
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  destroy(): void {
    this.doc.destroy();
  }

  /**
   * Validates and stores a route; its id is its match's key. A route with the same match is refused unless
   * `replace` is set.
   */
  async add(input: unknown, options: { replace?: boolean; now?: Date } = {}): Promise<Route> {
    const parsed = routeInputSchema.safeParse(input);
    if (!parsed.success) throw new RoomlineError('INVALID_REQUEST', `invalid route: ${describeIssues(parsed.error.issues)}`);
    const route: Route = { ...parsed.data, routeId: routeKey(parsed.data.match), createdAt: (options.now ?? new Date()).toISOString() };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: route,
          ...(options.replace === true
            ? {}
            : { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': ROUTES_TABLE.partitionKey } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new RoomlineError('INVALID_REQUEST', `a route for ${route.routeId} exists already (remove it first, or replace it)`);
      }
      throw error;
    }
    return route;
  }

  /** The routes among `keys` that exist, by key. */
  async lookup(keys: readonly string[]): Promise<Map<string, Route>> {
    const found = new Map<string, Route>();
    const unique = [...new Set(keys)].slice(0, 100);
    if (unique.length === 0) return found;
    let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }> | undefined = {
      [this.tableName]: { Keys: unique.map((key) => ({ [ROUTES_TABLE.partitionKey]: key })), ConsistentRead: true },
    };
    for (let round = 0; request !== undefined && round < 5; round++) {
      const result: BatchGetCommandOutput = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of result.Responses?.[this.tableName] ?? []) {
        const route = item as Route;
        found.set(route.routeId, route);
      }
      const left: { Keys?: Record<string, unknown>[] } | undefined = result.UnprocessedKeys?.[this.tableName];
      request = left?.Keys !== undefined && left.Keys.length > 0 ? { [this.tableName]: { Keys: left.Keys, ConsistentRead: true } } : undefined;
    }
    return found;
  }

  /** Every route, ordered by id (a management call: it scans the table). */
  async list(): Promise<Route[]> {
    const routes: Route[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const item of page.Items ?? []) routes.push(item as Route);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return routes.sort((a, b) => a.routeId.localeCompare(b.routeId));
  }

  /** Removes a route; false if there was none with that id. */
  async remove(routeId: string): Promise<boolean> {
    const result = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: { [ROUTES_TABLE.partitionKey]: routeId }, ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes !== undefined;
  }
}
