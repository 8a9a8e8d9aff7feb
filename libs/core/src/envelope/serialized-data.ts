import { OPTIONAL_STRING_ATTRIBUTES, type Envelope, type EnvelopeAttributes } from './envelope.js';

const SERIALIZED_DATA = Symbol('tidings.serializedData');

interface CarriesSerializedData {
  readonly [SERIALIZED_DATA]?: string;
}

/**
 * An envelope whose `data` is still the JSON text it was stored as: a store that keeps `data` apart (the outbox)
 * hands it to the transport as read, and `encodeEnvelope` puts that text on the wire without parsing and
 * re-serializing it (two passes over the payload that cost more than the rest of a relay's work per row).
 *
 * The result is an ordinary {@link Envelope}: reading `data` parses the text once, on first access, so code that
 * looks at the payload (an event log, a test) sees the same value it would have. `dataJson` must be valid JSON,
 * as a store's `json` column guarantees; it is not checked here.
 */
export function envelopeWithSerializedData(attributes: EnvelopeAttributes, dataJson: string): Envelope {
  let parsed = false;
  let data: unknown;
  // A literal with the known attributes, not a spread plus defineProperty('data'): that left the object in dictionary
  // mode, and building it and reading its attributes cost ~5 µs per row in the relay's profile (this, ~1.5 µs).
  const envelope: { -readonly [K in keyof Envelope]: Envelope[K] } = {
    specversion: attributes.specversion,
    id: attributes.id,
    type: attributes.type,
    source: attributes.source,
    time: attributes.time,
    datacontenttype: attributes.datacontenttype,
    dataversion: attributes.dataversion,
    get data(): unknown {
      if (!parsed) {
        data = JSON.parse(dataJson) as unknown;
        parsed = true;
      }
      return data;
    },
  };
  for (const name of OPTIONAL_STRING_ATTRIBUTES) {
    const value = attributes[name];
    if (value !== undefined) envelope[name] = value;
  }
  // Not enumerable: a copy (`{ ...envelope, data: other }`) must not carry the text of data it may have replaced.
  Object.defineProperty(envelope, SERIALIZED_DATA, { value: dataJson });
  return envelope;
}

/** The JSON text of `envelope.data` if the envelope was made by {@link envelopeWithSerializedData}. */
export function serializedDataOf(envelope: Envelope): string | undefined {
  return (envelope as CarriesSerializedData)[SERIALIZED_DATA];
}
