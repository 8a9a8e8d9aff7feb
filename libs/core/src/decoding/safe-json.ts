import { DecodeError } from '../errors/decode.error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large.error.js';

/** Default largest accepted message body: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Keys that let parsed input reach Object.prototype once merged into another object. The text
// check skips the reviver (slow) for ordinary payloads; '\u' catches escaped spellings of the keys.
const mayHoldForbiddenKey = (text: string): boolean => text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');

function rejectPollution(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') throw new DecodeError("JSON contains a '__proto__' key, which is refused to prevent prototype pollution");
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) {
    throw new DecodeError("JSON contains 'constructor.prototype', which is refused to prevent prototype pollution");
  }
  return value;
}

/**
 * Parses untrusted JSON bytes: checks the size before reading anything, refuses invalid UTF-8 and
 * prototype-polluting keys, and reports every failure as a {@link DecodeError}.
 */
export function parseUntrustedJson(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): unknown {
  if (bytes.byteLength > maxBytes) throw new PayloadTooLargeError(bytes.byteLength, maxBytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (cause) {
    throw new DecodeError('Message body is not valid UTF-8', { cause });
  }
  if (text.trim() === '') throw new DecodeError('Message body is empty; expected JSON');
  try {
    return mayHoldForbiddenKey(text) ? JSON.parse(text, rejectPollution) : JSON.parse(text);
  } catch (cause) {
    if (cause instanceof DecodeError) throw cause;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new DecodeError(`Message body is not valid JSON: ${detail}`, { cause, context: { preview: text.slice(0, 80) } });
  }
}
