import { ConfigurationError } from '../errors/configuration.error.js';

/** Splits a routing key or pattern into words the way RabbitMQ does: '' has no words, 'a.' has two. */
const wordsOf = (key: string): string[] => (key === '' ? [] : key.split('.'));

/**
 * A topic pattern with AMQP topic-exchange semantics: words are separated by dots, `*` matches
 * exactly one word (which may be empty), `#` matches zero or more words.
 */
export class TopicPattern {
  private readonly words: readonly string[];

  private constructor(readonly source: string) {
    this.words = wordsOf(source);
  }

  /**
   * Parses a pattern. A word that mixes `*` or `#` with other characters (`qa.answer*`) is rejected:
   * AMQP would read it literally, which is almost never what was meant.
   */
  static parse(pattern: string): TopicPattern {
    const bad = wordsOf(pattern).find((w) => w !== '*' && w !== '#' && /[*#]/.test(w));
    if (bad !== undefined) {
      throw new ConfigurationError(
        `Invalid topic pattern '${pattern}': the word '${bad}' mixes a wildcard with other characters`,
        "Wildcards are whole words: 'qa.answer.*' or 'qa.#', not 'qa.answer*'.",
        { pattern },
      );
    }
    return new TopicPattern(pattern);
  }

  /** True when the pattern contains no wildcard, so it matches exactly one routing key. */
  get isExact(): boolean {
    return !this.words.some((w) => w === '*' || w === '#');
  }

  /** Whether `routingKey` matches. Linear in words × pattern length (no backtracking blow-up with many `#`). */
  matches(routingKey: string): boolean {
    const key = wordsOf(routingKey);
    const pattern = this.words;
    // reachable[j]: the first i key words can be matched by the first j pattern words.
    let reachable = new Array<boolean>(pattern.length + 1).fill(false);
    reachable[0] = true;
    for (let j = 1; j <= pattern.length; j++) reachable[j] = pattern[j - 1] === '#' && reachable[j - 1] === true;
    for (let i = 1; i <= key.length; i++) {
      const next = new Array<boolean>(pattern.length + 1).fill(false);
      for (let j = 1; j <= pattern.length; j++) {
        const word = pattern[j - 1];
        if (word === '#') {
          // '#' consumes nothing (next[j-1]) or one more key word (reachable[j]).
          next[j] = next[j - 1] === true || reachable[j] === true;
        } else if (word === '*' || word === key[i - 1]) {
          next[j] = reachable[j - 1] === true;
        }
      }
      reachable = next;
    }
    return reachable[pattern.length] === true;
  }

  toString(): string {
    return this.source;
  }
}

/** True when any of `patterns` matches `routingKey`. */
export function matchesAnyTopic(patterns: readonly TopicPattern[], routingKey: string): boolean {
  return patterns.some((p) => p.matches(routingKey));
}
