import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CallStore } from '../../worker/call-store.js';
import { DialQueue } from '../../worker/dial-queue.js';
import { Emulators } from '../../lab/emulators.js';

/** The SQS and DynamoDB emulators with the project's queue, dead-letter queue and table, and clients for them. */
export interface EmulatorFixture {
  readonly emulators: Emulators;
  readonly queue: DialQueue;
  readonly store: CallStore;
  readonly sqs: SQSClient;
  /** Messages in a queue now, visible or in flight (does not receive them: receiving counts towards redrive). */
  count(queueUrl: string): Promise<number>;
  /** Bodies of the messages in the dead-letter queue. */
  deadLetters(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startEmulators(options: { maxReceives?: number } = {}): Promise<EmulatorFixture> {
  const emulators = await Emulators.start({ maxReceives: options.maxReceives ?? 3 });
  const sqs = emulators.sqsClient();
  const queue = new DialQueue(emulators.queueUrl, { client: sqs });
  const store = new CallStore(emulators.tableName, { client: emulators.dynamodbClient() });
  return {
    emulators,
    queue,
    store,
    sqs,
    async count(queueUrl) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    },
    async deadLetters() {
      const result = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: emulators.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
        }),
      );
      return (result.Messages ?? []).map((m) => m.Body ?? '');
    },
    async stop() {
      queue.destroy();
      store.destroy();
      await emulators.stop();
    },
  };
}
