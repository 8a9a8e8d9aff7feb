import { createEnvelope, decodeMessage, encodeEnvelope, type DeadLetterReason } from '@tidings/core';
import type { ConsumeMessage } from 'amqplib';
import {
  deadLetterReasonOf,
  toDeadLetterPublication,
  toInboundMessage,
  toPublication,
  toRetryPublication,
} from './amqp-message.mapping.js';

const envelope = createEnvelope({
  type: 'qa.answer.added',
  version: 2,
  source: 'questions',
  time: new Date('2024-05-01T10:00:00Z'),
  partitionKey: 'q1',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  data: { answerId: 'a1' },
});

/** What amqplib hands a consumer for a message published with `publication`. */
const delivered = (publication: ReturnType<typeof toPublication>, routingKey = publication.routingKey): ConsumeMessage =>
  ({
    content: publication.content,
    fields: { routingKey, exchange: publication.exchange, deliveryTag: 1, redelivered: false, consumerTag: 'c' },
    properties: { ...publication.options, headers: { ...publication.options.headers } },
  }) as unknown as ConsumeMessage;

describe('AMQP mapping (CloudEvents binary mode)', () => {
  it('publishes attributes as cloudEvents_ headers plus the properties people read in the UI', () => {
    const publication = toPublication('tidings.events', encodeEnvelope(envelope));
    expect(publication).toMatchObject({ exchange: 'tidings.events', routingKey: 'qa.answer.added' });
    expect(publication.options).toMatchObject({
      persistent: true,
      mandatory: true,
      contentType: 'application/json',
      messageId: envelope.id,
      type: 'qa.answer.added',
      appId: 'questions',
      timestamp: Date.parse('2024-05-01T10:00:00Z') / 1000,
      headers: {
        cloudEvents_specversion: '1.0',
        cloudEvents_id: envelope.id,
        cloudEvents_type: 'qa.answer.added',
        cloudEvents_source: 'questions',
        cloudEvents_dataversion: '2',
        cloudEvents_partitionkey: 'q1',
        cloudEvents_traceparent: envelope.traceparent,
      },
    });
    expect(JSON.parse(publication.content.toString('utf8'))).toEqual({ answerId: 'a1' });
  });

  it('round-trips through a delivery back to the same envelope', () => {
    const inbound = toInboundMessage(delivered(toPublication('x', encodeEnvelope(envelope))));
    expect(inbound.attempt).toBe(1);
    expect(inbound.failures).toBeUndefined();
    expect(decodeMessage(inbound)).toEqual(envelope);
  });

  it("reads headers a foreign producer sent as Buffers or numbers, and the 'cloudEvents:' spelling", () => {
    const message = {
      content: Buffer.from('{}'),
      fields: { routingKey: 'qa.x' },
      properties: {
        contentType: 'application/json',
        headers: { 'cloudEvents:id': Buffer.from('b1'), cloudEvents_dataversion: 3, other: 'ignored' },
      },
    } as unknown as ConsumeMessage;
    expect(toInboundMessage(message).attributes).toEqual({ id: 'b1', dataversion: '3' });
  });

  it('reads every attribute of deliveries with more distinct header names than it remembers', () => {
    const headers: Record<string, unknown> = {};
    for (let i = 0; i < 600; i++) {
      headers[`cloudEvents_x${i}`] = `v${i}`;
      headers[`foreign_${i}`] = i;
    }
    const message = { content: Buffer.from('{}'), fields: { routingKey: 'qa.x' }, properties: { headers } } as unknown as ConsumeMessage;
    const expected = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`x${i}`, `v${i}`]));
    expect(toInboundMessage(message).attributes).toEqual(expected);
    expect(toInboundMessage(message).attributes).toEqual(expected); // again, with the remembered names
  });

  it('carries the attempt, failure history and original routing key through a retry tier', () => {
    const original = delivered(toPublication('tidings.events', encodeEnvelope(envelope)));
    const failure = { errorName: 'TimeoutError', message: 'slow', at: '2024-05-01T10:00:05Z', firstFailureAt: '2024-05-01T10:00:05Z' };
    const retry = toRetryPublication(original, 1, 'svc.sub.retry.1s', { kind: 'retry', delayMs: 1000, failure });
    expect(retry).toMatchObject({ exchange: '', routingKey: 'svc.sub.retry.1s' });

    // The tier queue dead-letters it back to the work queue: routing key = queue name, x-death added.
    const back = delivered(retry, 'svc.sub');
    (back.properties.headers as Record<string, unknown>)['x-death'] = [{ count: 1 }];
    const inbound = toInboundMessage(back);
    expect(inbound).toMatchObject({
      attempt: 2,
      routingKey: 'qa.answer.added',
      failures: { firstFailureAt: failure.firstFailureAt, lastError: 'TimeoutError' },
    });
    expect(decodeMessage(inbound)).toEqual(envelope);

    // Retrying again drops the broker's death headers instead of letting them grow.
    const again = toRetryPublication(back, 2, 'svc.sub.retry.10s', {
      kind: 'retry',
      delayMs: 10_000,
      failure: { ...failure, at: '2024-05-01T10:00:07Z' },
    });
    expect(again.options.headers).not.toHaveProperty('x-death');
    expect(again.options.headers).toMatchObject({
      'x-tidings-attempt': 3,
      'x-tidings-first-failure-at': failure.firstFailureAt,
      'x-tidings-routing-key': 'qa.answer.added',
    });
  });

  it('writes why a message was dead-lettered, and reads it back', () => {
    const original = delivered(toPublication('tidings.events', encodeEnvelope(envelope)));
    const reason: DeadLetterReason = {
      code: 'TIDINGS_HANDLER_FAILED',
      errorName: 'Error',
      message: 'x'.repeat(5000),
      attempts: 5,
      firstFailureAt: '2024-05-01T10:00:00Z',
      lastFailureAt: '2024-05-01T10:02:00Z',
      routingKey: 'qa.answer.added',
      subscription: 'notifications.answers',
    };
    const letter = toDeadLetterPublication(original, 'notifications.answers.dlq', reason, 'notifications');
    const headers = letter.options.headers as Record<string, unknown>;
    expect(headers).toMatchObject({
      'x-tidings-service': 'notifications',
      'x-tidings-subscription': 'notifications.answers',
      'x-tidings-attempts': 5,
    });
    expect((headers['x-tidings-error-message'] as string).length).toBe(1000);
    expect(deadLetterReasonOf(headers)).toEqual({ ...reason, message: `${'x'.repeat(999)}…` });
    expect(letter.options.messageId).toBe(envelope.id);
  });
});
