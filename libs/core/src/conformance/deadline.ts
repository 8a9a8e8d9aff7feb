/**
 * Resolves or rejects like `promise`, or rejects after `timeoutMs` with a message naming `what`.
 * For promises the test cannot signal itself (a transport's `stop()`, say). `what` may be a function, called at the
 * deadline, to say where things stood then.
 */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
