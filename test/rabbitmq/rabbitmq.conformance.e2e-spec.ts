import { describeTransportConformance } from '@tidings/core';
import { rabbitMqTarget } from './rabbitmq-conformance.target.js';

// The same suite the memory transport passes, against the real RabbitMQ on this machine.
describeTransportConformance('rabbitmq (quorum queues, event log)', () => rabbitMqTarget('q', { withLog: true }), {
  ordering: true,
  persistence: true,
  eventLog: true,
  rejectsUnroutable: false,
});

describeTransportConformance(
  'rabbitmq (classic queues, no event log)',
  () => rabbitMqTarget('c', { withLog: false, queueType: 'classic' }),
  {
    ordering: true,
    persistence: true,
    eventLog: false,
    rejectsUnroutable: true,
  },
);
