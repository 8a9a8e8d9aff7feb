import { createEnvelope } from '../envelope/envelope.factory.js';
import type { Envelope } from '../envelope/envelope.js';
import { DecodeError } from '../errors/decode.error.js';
import { EncodeError } from '../errors/encode.error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large.error.js';
import type { OutboundMessage } from '../transport/transport-message.js';
import { decodeMessage, encodeEnvelope } from './envelope.codec.js';

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

const full: Envelope<{ answerId: string; tags: string[] }> = createEnvelope({
  id: '6f1c2a4e-1b2c-4d3e-8f90-0123456789ab',
  type: 'qa.answer.added',
  version: 3,
  source: 'questions',
  time: new Date('2024-05-01T10:00:00.000Z'),
  subject: 'question-7',
  partitionKey: 'q7',
  correlationId: 'corr-1',
  causationId: 'cause-1',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  data: { answerId: 'a1', tags: ['x', 'ü'] },
});

const binary = (attributes: Record<string, string>, body = '{}', contentType = 'application/json'): OutboundMessage => ({
  routingKey: attributes['type'] ?? 'qa.answer.added',
  body: utf8.encode(body),
  contentType,
  attributes,
});

const structured = (document: unknown, contentType = 'application/cloudevents+json'): OutboundMessage => ({
  routingKey: 'qa.answer.added',
  body: utf8.encode(JSON.stringify(document)),
  contentType,
  attributes: {},
});

const structuredEvent = {
  specversion: '1.0',
  id: 'ev-1',
  type: 'qa.answer.added',
  source: 'https://foreign.example/producer',
  time: '2024-05-01T10:00:00Z',
  dataversion: 2,
  partitionkey: 'q7',
  data: { answerId: 'a1' },
};

/** Runs `fn`, expecting a DecodeError, and returns it for further checks. */
const decodeErrorOf = (fn: () => unknown): DecodeError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('expected a DecodeError, nothing was thrown');
};

describe('encodeEnvelope', () => {
  it('encodes in binary content mode: body = JSON of data, attributes beside it', () => {
    const message = encodeEnvelope(full);
    expect(message.routingKey).toBe('qa.answer.added');
    expect(message.contentType).toBe('application/json');
    expect(JSON.parse(text(message.body))).toEqual({ answerId: 'a1', tags: ['x', 'ü'] });
    expect(message.attributes).toEqual({
      specversion: '1.0',
      id: '6f1c2a4e-1b2c-4d3e-8f90-0123456789ab',
      type: 'qa.answer.added',
      source: 'questions',
      time: '2024-05-01T10:00:00.000Z',
      dataversion: '3',
      subject: 'question-7',
      partitionkey: 'q7',
      correlationid: 'corr-1',
      causationid: 'cause-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
  });

  it("hands the JSON text to the transport's encoder and uses the bytes it returns as the body", () => {
    const seen: string[] = [];
    const bytes = new Uint8Array([1, 2, 3]);
    const message = encodeEnvelope(full, (json) => {
      seen.push(json);
      return bytes;
    });
    expect(seen).toEqual([JSON.stringify(full.data)]);
    expect(message.body).toBe(bytes);
  });

  it('omits absent optional attributes', () => {
    const message = encodeEnvelope(createEnvelope({ type: 'qa.x', version: 1, source: 's', data: 1 }));
    expect(Object.keys(message.attributes).sort()).toEqual(['dataversion', 'id', 'source', 'specversion', 'time', 'type']);
  });

  it('encodes undefined data as null', () => {
    expect(text(encodeEnvelope(createEnvelope({ type: 'qa.x', version: 1, source: 's', data: undefined })).body)).toBe('null');
  });

  it('refuses a BigInt with an EncodeError naming the type', () => {
    const envelope = createEnvelope({ type: 'qa.big', version: 1, source: 's', data: { n: 10n } });
    let thrown: unknown;
    try {
      encodeEnvelope(envelope);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EncodeError);
    const error = thrown as EncodeError;
    expect(error.code).toBe('TIDINGS_ENCODE_FAILED');
    expect(error.context).toEqual({ type: 'qa.big' });
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('refuses a cycle with an EncodeError', () => {
    const data: Record<string, unknown> = {};
    data['self'] = data;
    expect(() => encodeEnvelope(createEnvelope({ type: 'qa.x', version: 1, source: 's', data }))).toThrow(EncodeError);
  });
});

describe('decodeMessage', () => {
  describe('binary content mode', () => {
    it('round-trips every attribute and the data', () => {
      expect(decodeMessage(encodeEnvelope(full))).toEqual(full);
    });

    it('round-trips a minimal envelope and scalar data', () => {
      const envelope = createEnvelope({ type: 'qa.x', version: 1, source: 's', data: 'just text' });
      expect(decodeMessage(encodeEnvelope(envelope))).toEqual(envelope);
    });

    it('accepts a content type with parameters and any case', () => {
      const message = { ...encodeEnvelope(full), contentType: 'application/json; charset=utf-8' };
      expect(decodeMessage(message)).toEqual(full);
      expect(decodeMessage({ ...message, contentType: 'Application/JSON' })).toEqual(full);
    });

    it.each(['text/plain', 'application/xml', '', 'application/jsonx'])('refuses content type %j', (contentType) => {
      const error = decodeErrorOf(() => decodeMessage({ ...encodeEnvelope(full), contentType }));
      expect(error.message).toMatch(/Unsupported content type/);
      expect(error.code).toBe('TIDINGS_DECODE_FAILED');
    });

    it.each(['id', 'type', 'source', 'specversion'])('refuses a message without %s, naming it', (name) => {
      const attributes: Record<string, string> = { ...encodeEnvelope(full).attributes };
      delete attributes[name];
      const error = decodeErrorOf(() => decodeMessage(binary(attributes)));
      expect(error.message).toContain(`'${name}'`);
      expect(error.context).toEqual({ attribute: name });
    });

    it('refuses an empty id', () => {
      const error = decodeErrorOf(() => decodeMessage(binary({ ...encodeEnvelope(full).attributes, id: '' })));
      expect(error.context).toEqual({ attribute: 'id' });
    });

    it('defaults a missing dataversion to 1', () => {
      const attributes: Record<string, string> = { ...encodeEnvelope(full).attributes };
      delete attributes['dataversion'];
      expect(decodeMessage(binary(attributes)).dataversion).toBe(1);
    });

    it('reports malformed JSON bodies as DecodeError', () => {
      const error = decodeErrorOf(() => decodeMessage(binary(encodeEnvelope(full).attributes, '{"a":')));
      expect(error.message).toMatch(/not valid JSON/);
    });

    it('enforces maxBytes', () => {
      const message = encodeEnvelope(full);
      expect(() => decodeMessage(message, { maxBytes: message.body.byteLength - 1 })).toThrow(PayloadTooLargeError);
      expect(decodeMessage(message, { maxBytes: message.body.byteLength })).toEqual(full);
    });
  });

  describe('structured content mode', () => {
    it('decodes attributes and data from the JSON document', () => {
      expect(decodeMessage(structured(structuredEvent))).toEqual({
        specversion: '1.0',
        id: 'ev-1',
        type: 'qa.answer.added',
        source: 'https://foreign.example/producer',
        time: '2024-05-01T10:00:00Z',
        datacontenttype: 'application/json',
        dataversion: 2,
        partitionkey: 'q7',
        data: { answerId: 'a1' },
      });
    });

    it('accepts parameters on the media type, a JSON datacontenttype and a string dataversion', () => {
      const envelope = decodeMessage(
        structured(
          { ...structuredEvent, datacontenttype: 'application/json; charset=utf-8', dataversion: '4' },
          'application/cloudevents+json; charset=UTF-8',
        ),
      );
      expect(envelope.dataversion).toBe(4);
      expect(envelope.datacontenttype).toBe('application/json');
    });

    it('gives absent data as null', () => {
      const { data: _data, ...withoutData } = structuredEvent;
      expect(decodeMessage(structured(withoutData)).data).toBeNull();
    });

    it('uses `now` for a missing time', () => {
      const { time: _time, ...withoutTime } = structuredEvent;
      const envelope = decodeMessage(structured(withoutTime), { now: () => new Date('2030-01-02T03:04:05.000Z') });
      expect(envelope.time).toBe('2030-01-02T03:04:05.000Z');
    });

    it.each(['id', 'type', 'source', 'specversion'])('refuses a document without %s, naming it', (name) => {
      const document: Record<string, unknown> = { ...structuredEvent };
      delete document[name];
      const error = decodeErrorOf(() => decodeMessage(structured(document)));
      expect(error.message).toContain(`'${name}'`);
      expect(error.context).toEqual({ attribute: name });
    });

    it('refuses a non-string attribute', () => {
      const error = decodeErrorOf(() => decodeMessage(structured({ ...structuredEvent, id: 42 })));
      expect(error.context).toEqual({ attribute: 'id' });
      expect(decodeErrorOf(() => decodeMessage(structured({ ...structuredEvent, partitionkey: 7 }))).context).toEqual({
        attribute: 'partitionkey',
      });
    });

    it.each(['0.3', '1', '2.0'])('refuses specversion %j', (specversion) => {
      const error = decodeErrorOf(() => decodeMessage(structured({ ...structuredEvent, specversion })));
      expect(error.message).toBe(`Unsupported CloudEvents specversion '${specversion}'; expected '1.0'`);
    });

    it.each(['yesterday', '2024-13-45T99:00:00Z'])('refuses time %j', (time) => {
      const error = decodeErrorOf(() => decodeMessage(structured({ ...structuredEvent, time })));
      expect(error.message).toMatch(/'time' is not an RFC 3339 timestamp/);
    });

    it.each([0, -1, 1.5, '0', 'abc', '1.5', '', null])('refuses dataversion %j', (dataversion) => {
      const error = decodeErrorOf(() => decodeMessage(structured({ ...structuredEvent, dataversion })));
      expect(error.message).toMatch(/'dataversion' must be a whole number from 1/);
    });

    it('refuses data_base64', () => {
      const { data: _data, ...rest } = structuredEvent;
      const error = decodeErrorOf(() => decodeMessage(structured({ ...rest, data_base64: 'e30=' })));
      expect(error.message).toMatch(/data_base64/);
    });

    it('refuses a non-JSON datacontenttype', () => {
      const error = decodeErrorOf(() => decodeMessage(structured({ ...structuredEvent, datacontenttype: 'text/xml' })));
      expect(error.message).toMatch(/Unsupported datacontenttype 'text\/xml'/);
    });

    it.each([[[structuredEvent]], ['a string'], [42], [null]])('refuses a document that is not an object: %j', (document) => {
      const error = decodeErrorOf(() => decodeMessage(structured(document)));
      expect(error.message).toBe('A structured-mode CloudEvent must be a JSON object');
    });

    it('refuses a prototype-polluting document', () => {
      const message: OutboundMessage = {
        ...structured(structuredEvent),
        body: utf8.encode('{"specversion":"1.0","__proto__":{"polluted":true}}'),
      };
      expect(() => decodeMessage(message)).toThrow(DecodeError);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('enforces maxBytes', () => {
      const message = structured(structuredEvent);
      const error = decodeErrorOf(() => decodeMessage(message, { maxBytes: 10 }));
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect(error.context).toEqual({ sizeBytes: message.body.byteLength, limitBytes: 10 });
    });
  });
});

describe('decodeMessage strictness', () => {
  const attributes = { specversion: '1.0', id: 'e1', type: 'qa.answer.added', source: 'questions', time: '2024-05-01T10:00:00Z' };

  it.each(['true', '0x10', ' 2 ', '1.5', '0', '-1', '99999999999999999999'])("refuses dataversion '%s'", (dataversion) => {
    expect(() => decodeMessage(binary({ ...attributes, dataversion }))).toThrow(/dataversion/);
  });

  it('accepts dataversion as digits (binary mode) or a number (structured mode)', () => {
    expect(decodeMessage(binary({ ...attributes, dataversion: '12' })).dataversion).toBe(12);
    const structured = utf8.encode(JSON.stringify({ ...attributes, dataversion: 3, data: {} }));
    expect(
      decodeMessage({ routingKey: 'x', body: structured, contentType: 'application/cloudevents+json', attributes: {} }).dataversion,
    ).toBe(3);
  });

  it.each(['5', 'Tue, 1 May 2024 10:00:00 GMT', '2024-05-01', '2024-05-01 10:00:00Z', '2024-05-01T10:00:00'])(
    "refuses time '%s' (not RFC 3339)",
    (time) => {
      expect(() => decodeMessage(binary({ ...attributes, time }))).toThrow(/RFC 3339/);
    },
  );

  it.each(['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.123456Z', '2024-05-01T12:00:00+02:00'])("accepts time '%s'", (time) => {
    expect(decodeMessage(binary({ ...attributes, time })).time).toBe(time);
  });
});
