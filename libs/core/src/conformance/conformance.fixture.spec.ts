import { typeWordOf } from './conformance.fixture.js';

describe('typeWordOf', () => {
  it.each([
    ['t3f9a.', 't3f9a'],
    ['Conformance-7F.', 'conformance-7f'],
    ['tidings.test.42.', 'tidings-test-42'],
    ['__x__', 'x'],
    ['...', 'conformance'],
  ])('makes %p one event-type word: %p', (prefix, word) => {
    expect(typeWordOf(prefix)).toBe(word);
    expect(word).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
  });
});
