/**
 * The tier a transport uses for a requested retry delay: the smallest tier at least as long, or the
 * largest tier when the delay is longer than all (a retry is never sooner than asked, except past the
 * longest tier). `tiers` must be ascending and non-empty, as `Subscription.retryTiersMs` is.
 */
export function tierAtLeast(tiers: readonly number[], delayMs: number): number {
  return tiers.find((tier) => tier >= delayMs) ?? tiers[tiers.length - 1] ?? delayMs;
}
