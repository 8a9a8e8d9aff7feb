import { ConfigurationError } from '@tidings/core';

type Env = NodeJS.ProcessEnv;

const invalid = (name: string, text: string, expected: string): ConfigurationError =>
  new ConfigurationError(`${name} must be ${expected}, got '${text}'`, `Fix ${name} or unset it to use the default.`);

/** A whole number from the environment, or `fallback` when unset or empty. */
export function envInteger(env: Env, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw invalid(name, text, 'a whole number');
  return value;
}

/** A fraction between 0 and 1 from the environment (a rate), or `fallback`. */
export function envFraction(env: Env, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw invalid(name, text, 'a number between 0 and 1');
  return value;
}

/** A string from the environment, or `fallback` when unset or empty. */
export function envString(env: Env, name: string, fallback: string): string {
  const text = env[name];
  return text === undefined || text === '' ? fallback : text;
}
