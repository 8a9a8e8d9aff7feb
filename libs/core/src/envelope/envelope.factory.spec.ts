import { createEnvelope } from './envelope.factory.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('createEnvelope', () => {
  const base = { type: 'qa.answer.added', version: 2, source: 'questions', data: { answerId: 'a1' } };

  it('fills the CloudEvents attributes', () => {
    const envelope = createEnvelope(base);
    expect(envelope.specversion).toBe('1.0');
    expect(envelope.id).toMatch(UUID);
    expect(envelope.type).toBe('qa.answer.added');
    expect(envelope.source).toBe('questions');
    expect(envelope.time).toMatch(ISO);
    expect(Number.isNaN(Date.parse(envelope.time))).toBe(false);
    expect(envelope.datacontenttype).toBe('application/json');
    expect(envelope.dataversion).toBe(2);
    expect(envelope.data).toEqual({ answerId: 'a1' });
  });

  it('generates a fresh id for each envelope', () => {
    expect(createEnvelope(base).id).not.toBe(createEnvelope(base).id);
  });

  it('uses the given id and time', () => {
    const envelope = createEnvelope({ ...base, id: 'fixed-id', time: new Date('2024-05-01T10:00:00Z') });
    expect(envelope.id).toBe('fixed-id');
    expect(envelope.time).toBe('2024-05-01T10:00:00.000Z');
  });

  it('sets no optional attribute unless given', () => {
    expect(Object.keys(createEnvelope(base)).sort()).toEqual(
      ['data', 'datacontenttype', 'dataversion', 'id', 'source', 'specversion', 'time', 'type'].sort(),
    );
  });

  it('maps the options onto the extension attributes', () => {
    const envelope = createEnvelope({
      ...base,
      subject: 'question-7',
      partitionKey: 'q7',
      correlationId: 'corr-1',
      causationId: 'cause-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(envelope).toMatchObject({
      subject: 'question-7',
      partitionkey: 'q7',
      correlationid: 'corr-1',
      causationid: 'cause-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(envelope).not.toHaveProperty('partitionKey');
    expect(envelope).not.toHaveProperty('correlationId');
  });
});

describe('createEnvelope refuses empty strings its consumers would refuse', () => {
  it.each(['id', 'partitionKey', 'correlationId', 'causationId', 'subject', 'traceparent'] as const)('%s', (option) => {
    expect(() => createEnvelope({ type: 'qa.x', version: 1, source: 's', data: {}, [option]: '' })).toThrow(
      new RegExp(`Envelope option '${option}' is an empty string`),
    );
  });
});
