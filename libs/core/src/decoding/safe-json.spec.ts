import { jest } from '@jest/globals';
import { DecodeError } from '../errors/decode.error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large.error.js';
import { DEFAULT_MAX_MESSAGE_BYTES, parseUntrustedJson } from './safe-json.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const parse = (text: string, maxBytes?: number): unknown => parseUntrustedJson(bytes(text), maxBytes);

/** Runs `fn`, expecting an error of `type`, and returns it for further checks. */
function errorOf<E extends Error>(type: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected ${type.name}, nothing was thrown`);
}

afterEach(() => jest.restoreAllMocks());

describe('parseUntrustedJson', () => {
  describe('size limit', () => {
    it('is 1 MiB by default', () => {
      expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(1_048_576);
      const limit = `"${'a'.repeat(DEFAULT_MAX_MESSAGE_BYTES - 2)}"`;
      expect(parse(limit)).toHaveLength(DEFAULT_MAX_MESSAGE_BYTES - 2);
      const error = errorOf(PayloadTooLargeError, () => parse(`${limit} `));
      expect(error.context).toEqual({ sizeBytes: DEFAULT_MAX_MESSAGE_BYTES + 1, limitBytes: DEFAULT_MAX_MESSAGE_BYTES });
    });

    it('accepts a body of exactly the limit', () => {
      expect(parse('[1,2,3,4]', 9)).toEqual([1, 2, 3, 4]);
    });

    it('is checked before parsing: limit+1 bytes of invalid JSON is too large, not malformed', () => {
      const spy = jest.spyOn(JSON, 'parse');
      const error = errorOf(PayloadTooLargeError, () => parse('{not json!', 9));
      expect(error.code).toBe('TIDINGS_PAYLOAD_TOO_LARGE');
      expect(error.context).toEqual({ sizeBytes: 10, limitBytes: 9 });
      expect(error.message).not.toMatch(/JSON/);
      expect(spy).not.toHaveBeenCalled();
      parse('{"ok":1}', 9);
      expect(spy).toHaveBeenCalledTimes(1); // the spy does see parsing
    });

    it('is checked before decoding UTF-8, and counts bytes, not characters', () => {
      const invalidUtf8 = new Uint8Array([0xff, 0xfe, 0xfd, 0xfc]);
      expect(() => parseUntrustedJson(invalidUtf8, 3)).toThrow(PayloadTooLargeError);
      // '"éé"' is 4 characters but 6 bytes.
      expect(() => parse('"éé"', 5)).toThrow(PayloadTooLargeError);
      expect(parse('"éé"', 6)).toBe('éé');
    });
  });

  it('refuses invalid UTF-8', () => {
    const error = errorOf(DecodeError, () => parseUntrustedJson(new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])));
    expect(error).not.toBeInstanceOf(PayloadTooLargeError);
    expect(error.code).toBe('TIDINGS_DECODE_FAILED');
    expect(error.message).toBe('Message body is not valid UTF-8');
    // TextDecoder's error comes from another realm under jest's VM modules, so compare the name.
    expect((error.cause as Error).name).toBe('TypeError');
  });

  it.each(['', ' ', '\n\t  \r\n'])('refuses an empty body %j', (text) => {
    expect(errorOf(DecodeError, () => parse(text)).message).toBe('Message body is empty; expected JSON');
  });

  it.each(['{"a":', 'not json', "{'a': 1}", '{"a": 1,}', 'undefined', '{"a": 1} {"b": 2}'])('refuses malformed JSON %j', (text) => {
    const error = errorOf(DecodeError, () => parse(text));
    expect(error.code).toBe('TIDINGS_DECODE_FAILED');
    expect(error.message).toMatch(/^Message body is not valid JSON: \S/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(error.context).toEqual({ preview: text });
  });

  it('previews at most 80 characters of a malformed body', () => {
    const text = `{"a": "${'x'.repeat(200)}`;
    expect(errorOf(DecodeError, () => parse(text)).context).toEqual({ preview: text.slice(0, 80) });
  });

  describe('prototype pollution', () => {
    afterEach(() => {
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('refuses a __proto__ key', () => {
      const error = errorOf(DecodeError, () => parse('{"__proto__": {"polluted": true}}'));
      expect(error.message).toMatch(/'__proto__'/);
      expect(error.code).toBe('TIDINGS_DECODE_FAILED');
    });

    it.each([
      '{"\\u005f_proto__": {"polluted": true}}',
      '{"\\u005f\\u005fproto\\u005f\\u005f": {"polluted": true}}',
      '{"__pr\\u006fto__": {}}',
    ])('refuses an escaped spelling %s', (text) => {
      expect(errorOf(DecodeError, () => parse(text)).message).toMatch(/'__proto__'/);
    });

    it('refuses a nested __proto__ key', () => {
      expect(() => parse('{"a": [{"b": {"__proto__": {"polluted": true}}}]}')).toThrow(DecodeError);
    });

    it('refuses constructor.prototype, nested or escaped', () => {
      expect(errorOf(DecodeError, () => parse('{"a": {"constructor": {"prototype": {"polluted": 1}}}}')).message).toMatch(
        /constructor\.prototype/,
      );
      expect(() => parse('{"constructor": {"prototype": {"polluted": 1}}}')).toThrow(DecodeError);
      expect(() => parse('{"c\\u006fnstructor": {"prototype": {"polluted": 1}}}')).toThrow(DecodeError);
    });

    it('accepts constructor as an ordinary field', () => {
      const value = parse('{"constructor": "a string"}') as Record<string, unknown>;
      expect(Object.keys(value)).toEqual(['constructor']);
      expect(value['constructor']).toBe('a string');
      expect(parse('{"constructor": {"name": "Foo"}}')).toEqual({ constructor: { name: 'Foo' } });
      expect(parse('{"prototype": {"x": 1}}')).toEqual({ prototype: { x: 1 } });
    });

    it('accepts the forbidden words as values', () => {
      expect(parse('{"note": "__proto__ and constructor are words"}')).toEqual({ note: '__proto__ and constructor are words' });
    });
  });

  it('parses ordinary nested JSON', () => {
    expect(parse('{"a": {"b": [1, 2.5, -3e2, true, false, null, "x"]}, "c": {}}')).toEqual({
      a: { b: [1, 2.5, -300, true, false, null, 'x'] },
      c: {},
    });
  });

  it('parses escapes and scalars', () => {
    expect(parse('{"name": "caf\\u00e9 \\"quoted\\"\\n"}')).toEqual({ name: 'café "quoted"\n' });
    expect(parse(' 42 ')).toBe(42);
    expect(parse('"text"')).toBe('text');
    expect(parse('null')).toBeNull();
  });

  it('parses the same with and without the slow path', () => {
    // 'constructor' in a value sends the text through the reviver, which must not change the result.
    const document = { constructor: 'x', list: [{ a: 1 }, [2, [3]]], nested: { deep: { deeper: 'é' } } };
    expect(parse(JSON.stringify(document))).toEqual(document);
  });
});
