import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { CallRecord } from '../../contracts/call-record.js';
import { builtDir } from '../../worker/paths.js';
import type { Emulators } from '../emulators.js';
import { callsView, type CallsView } from './call-list.js';
import { DashboardAggregator, type DashboardState } from './dashboard-state.js';

/** What the page receives, as JSON, at `/state` and in each server-sent event of `/events`. */
export interface DashboardUpdate {
  readonly at: number;
  readonly metrics: DashboardState;
  readonly calls: CallsView;
}

export interface LabDashboardOptions {
  /** The lab's emulators: the calls are read from its calls table. */
  readonly emulators: Emulators;
  /** Loopback port. @default any free port */
  readonly port?: number;
  /** How often the page gets an update, milliseconds. @default 1000 */
  readonly intervalMs?: number;
  /** The metrics' namespace. @default "Roomline" */
  readonly namespace?: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/**
 * The lab dashboard on the host's loopback: the built page (dist/lab-pages/dashboard.html and its script), the
 * metrics reduced from the workers' EMF lines (fed through `addLine`), the calls from the emulated calls table, live
 * over server-sent events, and each call's record at `/calls/<callId>`.
 */
export class LabDashboard {
  readonly aggregator: DashboardAggregator;
  readonly #clients = new Set<ServerResponse>();
  readonly #doc: DynamoDBDocumentClient;
  #timer: NodeJS.Timeout | undefined;
  #last: DashboardUpdate | undefined;

  private constructor(
    private readonly server: Server,
    private readonly options: LabDashboardOptions,
    private readonly pages: string,
  ) {
    this.aggregator = new DashboardAggregator(options.namespace === undefined ? {} : { namespace: options.namespace });
    this.#doc = DynamoDBDocumentClient.from(options.emulators.dynamodbClient());
  }

  static async start(options: LabDashboardOptions): Promise<LabDashboard> {
    const pages = builtDir('lab-pages', 'dashboard.html');
    const server = createServer();
    const dashboard = new LabDashboard(server, options, pages);
    server.on('request', (request, response) => {
      dashboard.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', resolve);
    });
    dashboard.#schedule();
    return dashboard;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** One line of a worker's stdout (EMF documents count; other lines are ignored). */
  addLine(line: string): void {
    this.aggregator.add(line);
  }

  /** The page's data now. */
  async update(): Promise<DashboardUpdate> {
    const now = Date.now();
    return { at: now, metrics: this.aggregator.state(now), calls: callsView(await this.#records()) };
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.#doc.destroy();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.#push().finally(() => {
        if (this.#timer !== undefined) this.#schedule();
      });
    }, this.options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  async #push(): Promise<void> {
    if (this.#clients.size === 0) return;
    this.#last = await this.update().catch(() => this.#last);
    if (this.#last === undefined) return;
    const event = `data: ${JSON.stringify(this.#last)}\n\n`;
    for (const client of this.#clients) client.write(event);
  }

  async #records(): Promise<CallRecord[]> {
    const records: CallRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(
        new ScanCommand({ TableName: this.options.emulators.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      for (const item of page.Items ?? []) records.push(item as CallRecord);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return records;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (request.method !== 'GET') return void response.writeHead(405).end();
    if (path === '/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      this.#clients.add(response);
      request.once('close', () => this.#clients.delete(response));
      response.write(`data: ${JSON.stringify(await this.update())}\n\n`);
      return;
    }
    if (path === '/state') return json(response, 200, await this.update());
    if (path.startsWith('/calls/')) {
      const callId = decodeURIComponent(path.slice('/calls/'.length));
      const { Item } = await this.#doc.send(new GetCommand({ TableName: this.options.emulators.tableName, Key: { callId }, ConsistentRead: true }));
      return Item === undefined ? json(response, 404, { error: `no call ${callId}` }) : json(response, 200, Item);
    }
    const file = normalize(path === '/' ? 'dashboard.html' : path.slice(1));
    const type = CONTENT_TYPES[extname(file)];
    if (file.startsWith('..') || type === undefined) return void response.writeHead(404).end();
    const body = await readFile(join(this.pages, file)).catch(() => undefined);
    if (body === undefined) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body, null, 2));
}
