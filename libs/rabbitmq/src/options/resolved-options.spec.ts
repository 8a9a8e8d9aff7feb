import { ConfigurationError } from '@tidings/core';
import { redactUrl } from './redact-url.js';
import { resolveOptions } from './resolved-options.js';

describe('redactUrl', () => {
  it.each([
    ['amqp://guest:s3cret@host:5672/vhost', 'amqp://guest:***@host:5672/vhost'],
    ['amqps://user:p%40ss@broker.example.com/prod', 'amqps://user:***@broker.example.com/prod'],
    ['amqp://host:5672', 'amqp://host:5672'],
    ['not a url but user:secret@host', 'not a url but ***@host'],
    ['weird://:secret@', 'weird://***@'],
  ])('%s → %s', (url, expected) => expect(redactUrl(url)).toBe(expected));
});

describe('resolveOptions', () => {
  it('applies safe defaults', () => {
    const options = resolveOptions({ url: 'amqp://guest:guest@127.0.0.1:5672' });
    expect(options).toMatchObject({
      exchange: 'tidings.events',
      queueType: 'quorum',
      deliveryLimit: 20,
      publishWindow: 1000,
      publishTimeoutMs: 30_000,
      heartbeatSeconds: 15,
      connectionName: 'tidings',
      reconnect: { initialDelayMs: 500, maxDelayMs: 30_000, jitter: 0.3 },
      eventLog: undefined,
      socketOptions: {},
    });
  });

  it('names the event log stream tidings.log unless told otherwise', () => {
    expect(resolveOptions({ url: 'amqp://h', eventLog: true }).eventLog).toEqual({ queue: 'tidings.log' });
    expect(resolveOptions({ url: 'amqp://h', eventLog: { queue: 'history', maxAge: '7D' } }).eventLog).toEqual({
      queue: 'history',
      maxAge: '7D',
    });
    expect(resolveOptions({ url: 'amqp://h', eventLog: false }).eventLog).toBeUndefined();
  });

  it('passes TLS options through with certificate and host name verification forced on', () => {
    const options = resolveOptions({ url: 'amqps://u:p@broker:5671', tls: { ca: 'CA PEM', servername: 'broker.internal' } });
    expect(options.socketOptions).toEqual({ ca: 'CA PEM', servername: 'broker.internal', rejectUnauthorized: true });
    const sneaky = { ca: 'x', rejectUnauthorized: false, checkServerIdentity: () => undefined } as unknown as { ca: string };
    expect(resolveOptions({ url: 'amqps://broker', tls: sneaky }).socketOptions).toEqual({ ca: 'x', rejectUnauthorized: true });
  });

  it('refuses TLS options on a plain amqp:// URL', () => {
    expect(() => resolveOptions({ url: 'amqp://broker', tls: { ca: 'x' } })).toThrow(/tls is set but the url is not amqps/);
  });

  it('fails with a message naming the option, and never echoes the password', () => {
    const attempt = (patch: object) => () => resolveOptions({ url: 'amqp://guest:guest@h', ...patch });
    expect(attempt({ publishWindow: 0 })).toThrow(/publishWindow must be a whole number from 1, got 0/);
    expect(attempt({ deliveryLimit: 1.5 })).toThrow(/deliveryLimit/);
    expect(attempt({ queueType: 'lazy' })).toThrow(/queueType must be 'quorum' or 'classic'/);
    expect(attempt({ reconnect: { jitter: 1 } })).toThrow(/reconnect.jitter/);
    expect(() => resolveOptions({ url: 'http://u:topsecret@h' })).toThrow(/must use amqp:\/\/ or amqps:\/\//);
    let error: unknown;
    try {
      resolveOptions({ url: '://u:topsecret@ h' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(String((error as Error).message)).not.toContain('topsecret');
  });
});
