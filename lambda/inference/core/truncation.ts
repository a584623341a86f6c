/**
 * An answer cut short by the caller's own output limit. Asking for `maxTokens: 1` makes every answer stop at
 * `max_tokens`, which the confidence scorer reads as "cut off, unsure": without this rule such answers went up
 * the cascade and on to human review, so a caller could buy a reviewer's time for a fraction of a cent. An
 * answer that stopped at a limit the caller chose is what the caller asked for: it is returned (200,
 * `truncated: true`), not escalated and not reviewed.
 *
 * A stop at the platform's own limit (no `maxTokens` in the request, so the tenant's `defaultMaxTokens`, or a
 * `maxTokens` equal to the most the tenant allows this model) keeps the cascade: the caller did not choose to
 * cut the answer, and a longer one could not be had on this tier.
 */

/** The Converse stop reason of an answer that reached its output token limit. */
export const MAX_TOKENS_STOP = 'max_tokens';

/** True when an answer stopped at an output limit the caller set below what the tenant allows its model. */
export function cutShortByCaller(input: {
  /** `maxTokens` of the request, if the caller set one. */
  readonly requestedMaxTokens: number | undefined;
  readonly stopReason: string;
  /** The most output tokens this tenant allows the model that answered. */
  readonly modelCap: number;
}): boolean {
  return (
    input.requestedMaxTokens !== undefined &&
    input.requestedMaxTokens < input.modelCap &&
    input.stopReason.toLowerCase() === MAX_TOKENS_STOP
  );
}
