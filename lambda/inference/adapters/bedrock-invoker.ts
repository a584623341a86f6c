/**
 * `ModelInvoker` on Amazon Bedrock Runtime's Converse API. The SDK retries throttling and 5xx with backoff
 * (client `maxAttempts`); this adapter adds a hard deadline (abort) and maps service errors to the
 * failure kinds the core routes on.
 *
 * Every call applies the tenant's guardrail (`guardrailConfig` with its ARN and pinned version, trace on; IAM
 * refuses a call without it) and puts the platform's and the tenant's system preambles before the caller's
 * `system`. The preambles are plain system text, which the guardrail does not evaluate; the caller's `system`
 * goes in a `guardContent` block, so the guardrail evaluates it like the messages (all of which it evaluates,
 * none being marked). https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-use-converse-api.html
 */
import {
  type BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
  type SystemContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import type { GuardrailRef } from '../../shared/tenant-runtime';
import { type GuardrailTraceLike, readGuardrailTrace } from '../core/guardrail';
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

/** What every call of a tenant carries besides the request. */
export interface InvokerOptions {
  /** The tenant's guardrail: applied to every call. */
  readonly guardrail: GuardrailRef;
  /** System text before the caller's: the platform's, then the tenant's (unless the call brings its own). */
  readonly preamble?: { readonly platform?: string; readonly tenant?: string };
}

/**
 * The Converse `system` blocks of a call: the preambles as trusted text, then the caller's system text marked for
 * the guardrail. The caller's text is a block of its own: it cannot end, replace or reorder the preambles.
 */
export function systemBlocks(
  preamble: InvokerOptions['preamble'],
  callerSystem: string | undefined,
): SystemContentBlock[] {
  const blocks: SystemContentBlock[] = [];
  for (const text of [preamble?.platform, preamble?.tenant]) if (text) blocks.push({ text });
  if (callerSystem) blocks.push({ guardContent: { text: { text: callerSystem } } });
  return blocks;
}

/** The Converse input of a call. */
export function converseInput(call: ModelCall, opts: InvokerOptions): ConverseCommandInput {
  const system = systemBlocks(call.preamble ?? opts.preamble, call.system);
  return {
    modelId: call.modelId,
    messages: call.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
    ...(system.length ? { system } : {}),
    inferenceConfig: { maxTokens: call.maxTokens },
    guardrailConfig: {
      guardrailIdentifier: opts.guardrail.arn,
      guardrailVersion: opts.guardrail.version,
      // The assessment says what intervened and how many text units were billed.
      trace: 'enabled',
    },
  };
}

/** Creates an invoker on a shared `BedrockRuntimeClient` (created once per container by the caller). */
export function makeBedrockInvoker(
  client: BedrockRuntimeClient,
  opts: InvokerOptions,
  now: () => number = Date.now,
): ModelInvoker {
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
        const res = await client.send(new ConverseCommand(converseInput(call, opts)), { abortSignal: abort.signal });
        const text = (res.output?.message?.content ?? []).map((c) => ('text' in c ? (c.text ?? '') : '')).join('');
        const stopReason = res.stopReason ?? 'unknown';
        const guardrail = readGuardrailTrace(stopReason, res.trace?.guardrail as GuardrailTraceLike | undefined);
        return {
          text,
          stopReason,
          inputTokens: res.usage?.inputTokens ?? 0,
          outputTokens: res.usage?.outputTokens ?? 0,
          latencyMs: res.metrics?.latencyMs ?? now() - started,
          ...(Object.keys(guardrail.units).length ? { guardrailUnits: guardrail.units } : {}),
          guardrail,
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
