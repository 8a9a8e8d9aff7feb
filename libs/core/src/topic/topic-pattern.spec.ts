import { ConfigurationError } from '../errors/configuration.error.js';
import { TopicPattern } from './topic-pattern.js';

const matches = (pattern: string, key: string): boolean => TopicPattern.parse(pattern).matches(key);

describe('TopicPattern (AMQP topic semantics)', () => {
  it.each([
    ['qa.answer.added', 'qa.answer.added', true],
    ['qa.answer.added', 'qa.answer.accepted', false],
    ['qa.answer.added', 'qa.answer', false],
    ['qa.answer', 'qa.answer.added', false],
  ])('exact %s vs %s → %s', (p, k, expected) => expect(matches(p, k)).toBe(expected));

  it.each([
    ['qa.*.added', 'qa.answer.added', true],
    ['qa.*.added', 'qa.added', false],
    ['qa.*.added', 'qa.a.b.added', false],
    ['*', 'qa', true],
    ['*', 'qa.answer', false],
    ['*', '', false],
    ['*.*', 'a.b', true],
  ])("'*' is exactly one word: %s vs %s → %s", (p, k, expected) => expect(matches(p, k)).toBe(expected));

  it.each([
    ['#', '', true],
    ['#', 'qa', true],
    ['#', 'qa.answer.added', true],
    ['qa.#', 'qa', true],
    ['qa.#', 'qa.answer.added', true],
    ['qa.#', 'q', false],
    ['#.added', 'added', true],
    ['#.added', 'qa.answer.added', true],
    ['#.added', 'qa.answer.accepted', false],
  ])("'#' is zero or more words: %s vs %s → %s", (p, k, expected) => expect(matches(p, k)).toBe(expected));

  it.each([
    ['a.#.b', 'a.b', true],
    ['a.#.b', 'a.x.b', true],
    ['a.#.b', 'a.x.y.z.b', true],
    ['a.#.b', 'a.x.b.c', false],
    ['a.#.b', 'a.b.b', true],
    ['a.#.#.b', 'a.b', true],
    ['#.*', '', false],
    ['#.*', 'a', true],
    ['*.#.*', 'a', false],
    ['*.#.*', 'a.b', true],
  ])("'#' in the middle: %s vs %s → %s", (p, k, expected) => expect(matches(p, k)).toBe(expected));

  it.each([
    ['a..b', 'a..b', true],
    ['a.*.b', 'a..b', true],
    ['a.#', 'a.', true],
    ['a.*', 'a.', true],
    ['*', '.', false],
    ['*.*', '.', true],
    ['', '', true],
    ['', 'a', false],
    ['a', '', false],
  ])('empty words: %s vs %s → %s', (p, k, expected) => expect(matches(p, k)).toBe(expected));

  it('stays fast with many # against a long non-matching key', () => {
    const pattern = TopicPattern.parse(Array.from({ length: 30 }, () => '#').join('.') + '.z');
    const key = Array.from({ length: 200 }, () => 'a').join('.');
    expect(pattern.matches(key)).toBe(false);
    expect(pattern.matches(`${key}.z`)).toBe(true);
  });

  it('rejects words that mix wildcards with text', () => {
    expect(() => TopicPattern.parse('qa.answer*')).toThrow(ConfigurationError);
    expect(() => TopicPattern.parse('qa.#x')).toThrow(/mixes a wildcard/);
  });

  it('knows when a pattern is exact', () => {
    expect(TopicPattern.parse('qa.answer.added').isExact).toBe(true);
    expect(TopicPattern.parse('qa.*.added').isExact).toBe(false);
    expect(TopicPattern.parse('#').isExact).toBe(false);
  });
});
