import { ConfigurationError } from '../errors/configuration.error.js';

/* The part of a jest-compatible runner's globals the conformance suite uses. Read from `globalThis`
 * when the suite is defined, so the core neither imports nor type-references a test framework. */

/** A test or hook body. */
export type TestFn = () => Promise<void> | void;

/** Defines one test. */
export type DefineTest = (name: string, body: TestFn, timeoutMs?: number) => void;

/** Assertions the suite makes; a subset of jest's `expect(actual)`. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: object): void;
  toHaveLength(length: number): void;
  toBeGreaterThan(value: number): void;
  toBeGreaterThanOrEqual(value: number): void;
  toBeLessThanOrEqual(value: number | string): void;
  toBeDefined(): void;
  toBeUndefined(): void;
  readonly not: Matchers;
  readonly rejects: { toBeInstanceOf(type: abstract new (...args: never[]) => unknown): Promise<void> };
}

/** The runner globals the suite uses. */
export interface TestApi {
  describe(name: string, body: () => void): void;
  it: DefineTest & { readonly skip: DefineTest };
  beforeEach(body: TestFn, timeoutMs?: number): void;
  afterEach(body: TestFn, timeoutMs?: number): void;
  expect(actual: unknown): Matchers;
}

const NAMES = ['describe', 'it', 'beforeEach', 'afterEach', 'expect'] as const;

/** The runner's globals; fails with a clear message outside a test file. */
export function testApi(): TestApi {
  const globals = globalThis as Record<string, unknown>;
  const missing = NAMES.filter((name) => typeof globals[name] !== 'function');
  if (missing.length > 0) {
    throw new ConfigurationError(
      `The transport conformance suite needs the test globals ${missing.join(', ')}`,
      'Call describeTransportConformance at the top level of a jest test file (with injectGlobals left on).',
      { missing },
    );
  }
  return globals as unknown as TestApi;
}
