/** Replaces the password (and nothing else) of an AMQP URL, so URLs can appear in logs and errors. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL we can parse: mask every `user:password@` we can find, credentials and all.
    return url.replace(/(\/\/)?[^\s/@]*:[^\s/@]*@/g, '$1***@');
  }
}
