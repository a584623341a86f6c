/**
 * How the inference handler spends its time, defined once: the handler and the core use these to set call
 * deadlines, and the CDK app uses them to check at synth that a tenant's largest answer fits the time a
 * model call gets (lib/capacity).
 */
export const CALL_TIMING = {
  /** Kept back from the Lambda deadline to write the outcome after the model calls. */
  recordReserveMs: 3_000,
  /**
   * Outcome writes may use the reserve, but stop this long before the function's own timeout: the handler's
   * last half second, to answer API Gateway and emit its log and metrics.
   */
  recordStopMs: 500,
  /** No model call starts with less time than this before the deadline. */
  minCallMs: 1_000,
  /** A call may use at most this share of the time left, or all but `fallbackKeepMs`, so a fallback can run. */
  callTimeShare: 0.6,
  fallbackKeepMs: 10_000,
} as const;

/**
 * The deadlines of a request that starts at `startedMs` with `remainingMs` left before the function's timeout:
 * no model call runs past `deadlineMs` (the reserve kept back), and the outcome writes stop at `recordByMs`.
 */
export function requestDeadlines(startedMs: number, remainingMs: number): { deadlineMs: number; recordByMs: number } {
  return {
    deadlineMs: startedMs + Math.max(0, remainingMs - CALL_TIMING.recordReserveMs),
    recordByMs: startedMs + Math.max(0, remainingMs - CALL_TIMING.recordStopMs),
  };
}

/** Time the first model call of a request gets when the function has `timeoutMs` in all. */
export function firstCallBudgetMs(timeoutMs: number): number {
  const left = Math.max(0, timeoutMs - CALL_TIMING.recordReserveMs);
  return Math.max(left * CALL_TIMING.callTimeShare, left - CALL_TIMING.fallbackKeepMs);
}
