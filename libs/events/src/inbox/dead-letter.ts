import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';

/** Headers a DLQ entry adds to the original message's (which it keeps as they were). */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  errorName: 'x-dlq-error-name',
  consumer: 'x-dlq-consumer',
  originalTopic: 'x-dlq-original-topic',
  originalPartition: 'x-dlq-original-partition',
  originalOffset: 'x-dlq-original-offset',
  attempts: 'x-dlq-attempts',
  failedAt: 'x-dlq-failed-at',
} as const;

export const DLQ_HEADER_PREFIX = 'x-dlq-';

export function dlqTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
  readonly consumer: string;
  readonly error: Error;
  readonly attempts: number;
}

/**
 * Sends a message that its handler could not process to `<topic>.dlq`, unchanged (same key, value
 * and envelope headers) plus why, where from and by whom, so it can be inspected and replayed.
 */
export async function sendToDeadLetterTopic(producer: Producer, entry: DeadLetter): Promise<void> {
  const headers: IHeaders = {
    ...(entry.message.headers ?? {}),
    [DLQ_HEADERS.reason]: entry.error.message.slice(0, 4000),
    [DLQ_HEADERS.errorName]: entry.error.name,
    [DLQ_HEADERS.consumer]: entry.consumer,
    [DLQ_HEADERS.originalTopic]: entry.topic,
    [DLQ_HEADERS.originalPartition]: String(entry.partition),
    [DLQ_HEADERS.originalOffset]: entry.message.offset,
    [DLQ_HEADERS.attempts]: String(entry.attempts),
    [DLQ_HEADERS.failedAt]: new Date().toISOString(),
  };
  await producer.send({
    topic: dlqTopicOf(entry.topic),
    acks: -1,
    messages: [{ key: entry.message.key, value: entry.message.value, headers }],
  });
}
