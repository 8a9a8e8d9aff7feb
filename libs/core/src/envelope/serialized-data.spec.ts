import { decodeMessage, encodeEnvelope } from '../decoding/envelope.codec.js';
import { createEnvelope } from './envelope.factory.js';
import type { EnvelopeAttributes } from './envelope.js';
import { envelopeWithSerializedData, serializedDataOf } from './serialized-data.js';

describe('envelopeWithSerializedData', () => {
  const { data: _data, ...attributes }: { data: unknown } & EnvelopeAttributes = createEnvelope({
    type: 'qa.answer.added',
    version: 1,
    source: 'questions',
    data: null,
    partitionKey: 'q-1',
  });
  // Spaces that JSON.stringify would not write: they show whether the text was kept or re-serialized.
  const stored = '{ "answerId": "a1", "tags": [1, 2] }';

  it('keeps the stored text and puts it on the wire as it is', () => {
    const envelope = envelopeWithSerializedData(attributes, stored);
    expect(serializedDataOf(envelope)).toBe(stored);
    const message = encodeEnvelope(envelope);
    expect(new TextDecoder().decode(message.body)).toBe(stored);
    expect(message.attributes).toMatchObject({ id: attributes.id, type: 'qa.answer.added', partitionkey: 'q-1' });
  });

  it('is an ordinary envelope to whoever reads it: data parses on first access, once', () => {
    const envelope = envelopeWithSerializedData(attributes, stored);
    expect(envelope.data).toEqual({ answerId: 'a1', tags: [1, 2] });
    expect(envelope.data).toBe(envelope.data);
    expect({ ...envelope }).toEqual({ ...attributes, data: { answerId: 'a1', tags: [1, 2] } });
    expect(JSON.parse(JSON.stringify(envelope))).toEqual({ ...attributes, data: { answerId: 'a1', tags: [1, 2] } });
    expect(Object.keys(envelope).sort()).toEqual([...Object.keys(attributes), 'data'].sort());
  });

  it('decodes on the other side to the envelope it was stored from', () => {
    const envelope = envelopeWithSerializedData(attributes, stored);
    expect(decodeMessage(encodeEnvelope(envelope))).toEqual({ ...attributes, data: { answerId: 'a1', tags: [1, 2] } });
  });

  it('has no serialized data when made any other way, and a copy loses it', () => {
    expect(serializedDataOf(createEnvelope({ type: 't', version: 1, source: 's', data: {} }))).toBeUndefined();
    expect(serializedDataOf({ ...envelopeWithSerializedData(attributes, stored) })).toBeUndefined();
  });
});
