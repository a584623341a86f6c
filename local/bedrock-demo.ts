/**
 * The sandbox's Bedrock model behaviour (`npm start`): deterministic answers, steered by markers in the prompt so a
 * newcomer can watch routing, the cascade, fallbacks and a review without changing code:
 *
 * | marker            | what every model does                                                                  |
 * |-------------------|----------------------------------------------------------------------------------------|
 * | (none)            | a confident answer (the same text for the same prompt and model)                       |
 * | `[[sb:unsure]]`   | a hedged answer with a wrong sum: the confidence scorer rates it ~0.2, so the request   |
 * |                   | climbs the cascade to the strongest tier and then goes to human review (pending_review) |
 * | `[[sb:refuse]]`   | a refusal ("I'm sorry, but I can't help with that."): capped at 0.1, cascade and review |
 * | `[[sb:throttle]]` | a tier's own model answers ThrottlingException; its fallback model answers             |
 * | `[[sb:timeout]]`  | a tier's own model never answers (the call times out); its fallback model answers      |
 *
 * "A tier's own model" is any model that is not a fallback (DEFAULT_TIER_FALLBACKS and the tenants' `tierFallbacks`),
 * so throttling and time-outs show the fallback path rather than failing the request.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_TIER_FALLBACKS } from '../lambda/shared/catalog';
import { blockText, type ConverseRequestBody, type ModelBehaviour } from './bedrock-stub';

/** The markers, as a user types them in a prompt. */
export const DEMO_MARKERS = {
  unsure: '[[sb:unsure]]',
  refuse: '[[sb:refuse]]',
  throttle: '[[sb:throttle]]',
  timeout: '[[sb:timeout]]',
} as const;

/** A hedged answer with a sum that does not hold (arithmetic −0.4, hedges −0.3: confidence 0.2). */
export const UNSURE_ANSWER =
  "I think the answer is probably 2 + 2 = 5, but I'm not sure; perhaps I made a mistake somewhere.";
export const REFUSAL_ANSWER = "I'm sorry, but I can't help with that.";

/** The model ids that are some tier's fallback (never throttled or timed out by a marker). */
export function fallbackModels(extra: Iterable<string> = []): Set<string> {
  return new Set([...Object.values(DEFAULT_TIER_FALLBACKS).flat(), ...extra]);
}

/** The behaviour of one call: see the file header. */
export function demoBehaviour(fallbacks: ReadonlySet<string>) {
  return (_call: number, request: ConverseRequestBody, modelId: string): ModelBehaviour => {
    const prompt = request.messages.flatMap((m) => m.content.map(blockText)).join('\n');
    const primary = !fallbacks.has(modelId);
    if (prompt.includes(DEMO_MARKERS.throttle) && primary) {
      return { kind: 'error', errorType: 'ThrottlingException', status: 429, message: 'Too many requests (sandbox)' };
    }
    if (prompt.includes(DEMO_MARKERS.timeout) && primary) return { kind: 'hang' };
    if (prompt.includes(DEMO_MARKERS.refuse)) return { kind: 'answer', text: REFUSAL_ANSWER };
    if (prompt.includes(DEMO_MARKERS.unsure)) return { kind: 'answer', text: UNSURE_ANSWER };
    const digest = createHash('sha256').update(`${modelId}\n${prompt}`).digest('hex').slice(0, 8);
    return {
      kind: 'answer',
      text: `Sandbox answer from ${modelId} (${digest}). Put [[sb:unsure]], [[sb:refuse]], [[sb:throttle]] or [[sb:timeout]] in a prompt to see the cascade, review and fallbacks.`,
    };
  };
}
