import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { boundedClientConfig } from './call-store.js';
import type { Logger } from './logger.js';

/** The longest long poll SQS allows, in seconds. */
const MAX_POLL_WAIT_S = 20;

/** One received dial message. */
export interface DialMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** How many times SQS has delivered this message, this delivery included. */
  readonly receiveCount: number;
  readonly sentAt: Date | undefined;
  /** When the worker received it (epoch ms, sub-millisecond): where its setup trace takes over from the queue. */
  readonly receivedAt: number;
}

/**
 * The dial queue, and only SQS: send, long-poll one message, keep it invisible while its call lasts, delete it, or
 * hand it back.
 */
export class DialQueue {
  readonly sqs: SQSClient;
  private readonly requestTimeoutMs: number;

  constructor(
    readonly queueUrl: string,
    options: {
      client?: SQSClient;
      region?: string;
      /**
       * Longest wait for one request, in ms: a long poll may take its wait on top (the client's own socket timeout),
       * every other request is abandoned after this. @default 3000
       */
      requestTimeoutMs?: number;
    } = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 3_000;
    this.sqs =
      options.client ??
      new SQSClient({
        ...(options.region === undefined ? {} : { region: options.region }),
        // with an endpoint override (emulators), requests go to that endpoint, not to the queue URL's host
        ...(process.env['AWS_ENDPOINT_URL_SQS'] ?? process.env['AWS_ENDPOINT_URL'] ? { useQueueUrlAsEndpoint: false } : {}),
        ...boundedClientConfig(MAX_POLL_WAIT_S * 1000 + this.requestTimeoutMs),
      });
  }

  /** Send options that abandon a short request after the request timeout (a long poll has its own bound). */
  private bounded(ms = this.requestTimeoutMs): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(ms) };
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.sqs.destroy();
  }

  async send(body: string): Promise<string> {
    const result = await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body }), this.bounded());
    return result.MessageId ?? '';
  }

  /** Long-polls for at most one message; undefined when the wait ends empty. */
  async receiveOne(options: { waitS: number; visibilityS: number }): Promise<DialMessage | undefined> {
    const result = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: options.waitS,
        VisibilityTimeout: options.visibilityS,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
      // a poll is given its wait and the request timeout: only an endpoint that stopped answering hits this bound
      this.bounded(options.waitS * 1000 + this.requestTimeoutMs),
    );
    const receivedAt = performance.timeOrigin + performance.now();
    const message = result.Messages?.[0];
    if (message?.ReceiptHandle === undefined) return undefined;
    const sent = Number(message.Attributes?.SentTimestamp);
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle,
      body: message.Body ?? '',
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
      sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent) : undefined,
      receivedAt,
    };
  }

  async delete(message: DialMessage): Promise<void> {
    await this.sqs.send(
      new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.receiptHandle }),
      this.bounded(),
    );
  }

  /** Makes the message visible again after `delayS` seconds (0 = at once) for another worker to retry. */
  async handBack(message: DialMessage, delayS: number): Promise<void> {
    await this.setVisibility(message, delayS);
  }

  private async setVisibility(message: DialMessage, seconds: number, timeoutMs = this.requestTimeoutMs): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: seconds,
      }),
      this.bounded(timeoutMs),
    );
  }

  /**
   * Keeps the message invisible while its call lasts: every third of `visibilityS` the timeout is set to `visibilityS`
   * again. A failed renewal is logged; the call record's lease, not the message, decides who owns the call.
   */
  keepInvisible(message: DialMessage, visibilityS: number, logger: Logger): { stop(): void } {
    const periodMs = Math.max(1_000, (visibilityS * 1000) / 3);
    const timer = setInterval(
      () =>
        void this.setVisibility(message, visibilityS, Math.min(this.requestTimeoutMs, periodMs)).catch((error: unknown) =>
          logger.warn({ error: String(error) }, 'renewing the message visibility failed'),
        ),
      periodMs,
    );
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
}
