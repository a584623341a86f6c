/**
 * `ModelInvoker` on Amazon Bedrock Runtime's Converse API. The SDK retries throttling and 5xx with backoff
 * (client `maxAttempts`); this adapter adds a hard deadline (abort) and maps service errors to the
 * failure kinds the core routes on.
 */
import { type BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import {
  type ModelCall,
  ModelCallError,
  type ModelFailureKind,
  type ModelInvoker,
  type ModelReply,
} from '../core/ports';

const THROTTLED = new Set(['ThrottlingException', 'ServiceQuotaExceededException', 'TooManyRequestsException']);
const UNAVAILABLE = new Set([
  'ModelNotReadyException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalServerException',
  'InternalFailure',
  'ModelStreamErrorException',
  // 424: the model itself failed while processing a valid request; another model may well answer it.
  'ModelErrorException',
]);
const TIMEOUT = new Set(['ModelTimeoutException', 'AbortError', 'TimeoutError', 'RequestTimeout']);
/**
 * The function may not call this model: an inference profile routed the call to a destination region its IAM
 * policy does not name, or the model's access (subscription, use-case form) is missing. A platform fault, not the
 * caller's: another model may answer.
 */
const DENIED = new Set(['AccessDeniedException']);

/** Maps an SDK error to a failure kind. */
export function classifyBedrockError(e: unknown): ModelFailureKind {
  const err = e as { name?: string; $fault?: string; code?: string };
  const name = err?.name ?? '';
  if (THROTTLED.has(name)) return 'throttled';
  if (TIMEOUT.has(name)) return 'timeout';
  if (UNAVAILABLE.has(name)) return 'unavailable';
  if (DENIED.has(name)) return 'denied';
  if (err?.$fault === 'server') return 'unavailable';
  if (err?.$fault === 'client') return 'error';
  // Socket-level failures (connection refused/reset, HTTP/2 session errors) mean the endpoint is unreachable.
  if (typeof err?.code === 'string' && /^(E[A-Z]+|ERR_HTTP2)/.test(err.code)) return 'unavailable';
  return 'error';
}

/** Creates an invoker on a shared `BedrockRuntimeClient` (created once per container by the caller). */
export function makeBedrockInvoker(client: BedrockRuntimeClient, now: () => number = Date.now): ModelInvoker {
  return {
    async converse(call: ModelCall): Promise<ModelReply> {
      const budgetMs = call.deadlineMs - now();
      if (budgetMs <= 0) {
        throw new ModelCallError('timeout', 'No time left before the request deadline', 'DeadlineExceeded');
      }
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), budgetMs);
      const started = now();
      try {
        const res = await client.send(
          new ConverseCommand({
            modelId: call.modelId,
            messages: call.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
            ...(call.system ? { system: [{ text: call.system }] } : {}),
            inferenceConfig: { maxTokens: call.maxTokens },
          }),
          { abortSignal: abort.signal },
        );
        const text = (res.output?.message?.content ?? []).map((c) => ('text' in c ? (c.text ?? '') : '')).join('');
        return {
          text,
          stopReason: res.stopReason ?? 'unknown',
          inputTokens: res.usage?.inputTokens ?? 0,
          outputTokens: res.usage?.outputTokens ?? 0,
          latencyMs: res.metrics?.latencyMs ?? now() - started,
        };
      } catch (e) {
        const name = abort.signal.aborted ? 'DeadlineExceeded' : ((e as Error)?.name ?? 'Error');
        const kind = abort.signal.aborted ? 'timeout' : classifyBedrockError(e);
        throw new ModelCallError(kind, (e as Error)?.message ?? String(e), name);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
