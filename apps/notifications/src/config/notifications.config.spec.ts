import { ConfigurationError } from '@tidings/core';
import { notificationsConfigFromEnv } from './notifications.config.js';

describe('notificationsConfigFromEnv', () => {
  it('has defaults for this machine and a short demo retry schedule', () => {
    expect(notificationsConfigFromEnv({})).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      rabbitMqUrl: 'amqp://guest:guest@127.0.0.1:5672',
      exchange: 'tidings.events',
      namespace: '',
      port: 3003,
      schema: 'notifications',
      failureRate: 0,
      unregisteredUsers: [],
      maxAttempts: 4,
      retryDelayMs: 1000,
    });
  });

  it('reads every variable', () => {
    const config = notificationsConfigFromEnv({
      NOTIFICATIONS_PORT: '4003',
      NOTIFICATIONS_SCHEMA: 'notes',
      NOTIFY_FAILURE_RATE: '0.25',
      NOTIFY_UNREGISTERED_USERS: ' zoe, ,yan ,',
      NOTIFY_MAX_ATTEMPTS: '6',
      NOTIFY_RETRY_DELAY_MS: '50',
      TIDINGS_NAMESPACE: 'demo-',
    });
    expect(config).toMatchObject({
      port: 4003,
      schema: 'notes',
      failureRate: 0.25,
      unregisteredUsers: ['zoe', 'yan'],
      maxAttempts: 6,
      retryDelayMs: 50,
      namespace: 'demo-',
    });
  });

  it.each([
    ['NOTIFY_FAILURE_RATE', '1.5', "NOTIFY_FAILURE_RATE must be a number between 0 and 1, got '1.5'"],
    ['NOTIFY_FAILURE_RATE', 'half', "NOTIFY_FAILURE_RATE must be a number between 0 and 1, got 'half'"],
    ['NOTIFY_MAX_ATTEMPTS', '0', 'NOTIFY_MAX_ATTEMPTS must be 1 or more, got 0'],
    ['NOTIFY_MAX_ATTEMPTS', '2.5', "NOTIFY_MAX_ATTEMPTS must be a whole number, got '2.5'"],
    ['NOTIFY_RETRY_DELAY_MS', '0', 'NOTIFY_RETRY_DELAY_MS must be 1 or more, got 0'],
    ['NOTIFICATIONS_PORT', '-1', "NOTIFICATIONS_PORT must be a whole number, got '-1'"],
  ])('refuses %s=%s, naming the variable', (name, value, message) => {
    expect(() => notificationsConfigFromEnv({ [name]: value })).toThrow(ConfigurationError);
    expect(() => notificationsConfigFromEnv({ [name]: value })).toThrow(message);
  });
});
