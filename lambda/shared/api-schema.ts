/**
 * The tenant API's request and response shapes. The zod schema validates bodies in the handler, and the
 * same schema, converted to JSON Schema draft 4, is the API Gateway request model (lib/constructs/tenant-api).
 */
import * as z from 'zod/mini';
import type { GuardrailUnits } from './catalog';
import './zod-messages';

const MAX_PROMPT_CHARS = 200_000;
const MAX_SYSTEM_CHARS = 20_000;
/** Bytes a character can take in a JSON body: a `\uXXXX` escape. */
const MAX_JSON_BYTES_PER_CHAR = 6;

/** Hard limits that hold for every tenant (a tenant may set lower ones). */
export const API_LIMITS = {
  /**
   * Largest request body the handler reads, in bytes: the longest prompt and system text any tenant may allow,
   * every character escaped, plus 64 KiB for the other fields (well under API Gateway's 10 MB and Lambda's 6 MB).
   */
  maxBodyBytes: MAX_JSON_BYTES_PER_CHAR * (MAX_PROMPT_CHARS + MAX_SYSTEM_CHARS) + 64 * 1024,
  /** Largest prompt (all message contents plus system) any tenant may allow, in characters. */
  maxPromptChars: MAX_PROMPT_CHARS,
  maxMessages: 100,
  maxSystemChars: MAX_SYSTEM_CHARS,
  maxMetadataKeys: 16,
  /**
   * Metadata keys: 1–64 characters of letters, digits and `_ . : -`, starting with a letter or digit (so never
   * `__proto__`), and none of {@link RESERVED_METADATA_KEYS}.
   */
  metadataKeyPattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$',
  maxMetadataValueChars: 256,
  maxOutputTokens: 64_000,
  idempotencyKeyPattern: '^[A-Za-z0-9._:-]{1,128}$',
} as const;

/**
 * Metadata keys that name JavaScript object internals. A map holding one of them cannot be stored as it is
 * (the DynamoDB marshaller reads `constructor` to tell a plain object from a class instance) or would change
 * the object it is copied into (`__proto__`), so they are refused with a message that says why.
 */
const RESERVED_METADATA_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** A lone UTF-16 surrogate: not a character, and not encodable as UTF-8 (what the model and the ledger store). */
const LONE_SURROGATE = /\p{Cs}/u;
/** True when `s` holds no lone surrogate (linear; a surrogate pair is read as one code point in `u` mode). */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
const wellFormed = z.refine<string>(isWellFormedText, 'must be well-formed Unicode (no lone UTF-16 surrogates)');
const METADATA_KEY = new RegExp(API_LIMITS.metadataKeyPattern);

/**
 * The metadata keys of a parsed JSON body that are not allowed, each with what is wrong. Read from the body as
 * parsed (own keys), not from zod's output: zod's record parser skips an own `__proto__` key, so a check on
 * its output would accept `{"metadata":{"__proto__":…}}` silently.
 */
export function metadataKeyProblems(body: unknown): string[] {
  const metadata = (body as { metadata?: unknown } | null)?.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return [];
  const problems: string[] = [];
  for (const k of Object.keys(metadata)) {
    if (RESERVED_METADATA_KEYS.includes(k)) {
      problems.push(`metadata.${k}: the key "${k}" is reserved (it names a JavaScript object internal); rename it`);
    } else if (!METADATA_KEY.test(k)) {
      problems.push(
        `metadata.${k.slice(0, 80)}: keys must be 1-64 characters of letters, digits, "_", ".", ":" and "-", starting with a letter or digit`,
      );
    }
    if (problems.length >= API_LIMITS.maxMetadataKeys) break;
  }
  return problems;
}
const MetadataValue = z.string().check(z.maxLength(API_LIMITS.maxMetadataValueChars), wellFormed);

/** `tier` values a request may name; `auto` lets Switchboard choose. */
export const REQUEST_TIERS = ['auto', 'fast', 'balanced', 'deep'] as const;

const MessageSchema = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(API_LIMITS.maxPromptChars), wellFormed),
});

/**
 * `POST /v1/inference` body. `tier` is a free string here on purpose: an unknown tier is a semantic error
 * (422 `unknown_tier`), not a malformed body.
 */
const InferenceRequestObject = z.strictObject({
  messages: z.optional(
    z.array(MessageSchema).check(z.minLength(1, 'must hold at least one message'), z.maxLength(API_LIMITS.maxMessages)),
  ),
  prompt: z.optional(
    z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(API_LIMITS.maxPromptChars), wellFormed),
  ),
  system: z.optional(z.string().check(z.maxLength(API_LIMITS.maxSystemChars), wellFormed)),
  maxTokens: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(API_LIMITS.maxOutputTokens))),
  tier: z.optional(z.string().check(z.minLength(1), z.maxLength(32))),
  idempotencyKey: z.optional(z.string().check(z.regex(new RegExp(API_LIMITS.idempotencyKeyPattern)))),
  // Keys are checked by metadataKeyProblems (patternProperties in the API Gateway model).
  metadata: z.optional(z.record(z.string(), MetadataValue)),
});

/** The full request schema: the object plus the rules JSON Schema draft 4 expresses as `oneOf`/`maxProperties`. */
export const InferenceRequestSchema = InferenceRequestObject.check(
  z.superRefine((body, ctx) => {
    if ((body.messages === undefined) === (body.prompt === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'exactly one of "messages" or "prompt" is required' });
    }
    if (body.metadata && Object.keys(body.metadata).length > API_LIMITS.maxMetadataKeys) {
      ctx.addIssue({
        code: 'custom',
        path: ['metadata'],
        message: `at most ${API_LIMITS.maxMetadataKeys} keys are allowed`,
      });
    }
    if (body.messages) {
      if (body.messages[0]?.role !== 'user' || body.messages[body.messages.length - 1]?.role !== 'user') {
        ctx.addIssue({ code: 'custom', path: ['messages'], message: 'must start and end with a "user" message' });
      }
      for (let i = 1; i < body.messages.length; i++) {
        if (body.messages[i]?.role === body.messages[i - 1]?.role) {
          ctx.addIssue({
            code: 'custom',
            path: ['messages', i, 'role'],
            message: 'roles must alternate user/assistant',
          });
        }
      }
    }
  }),
);

export type InferenceRequest = z.infer<typeof InferenceRequestObject>;

/**
 * A copy of a string map on an object without a prototype: keys such as `toString` or `hasOwnProperty` are
 * plain data there, never inherited methods (the reserved keys are refused before this is used).
 */
export function nullPrototypeMap(map: Readonly<Record<string, string>>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const k of Object.keys(map)) out[k] = map[k]!;
  return out;
}

/** JSON Schema (draft 4) of the inference request, for the API Gateway request model. */
export function inferenceRequestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(InferenceRequestObject, { target: 'draft-4' }) as Record<string, unknown>;
  return {
    ...schema,
    oneOf: [{ required: ['messages'] }, { required: ['prompt'] }],
    properties: {
      ...(schema.properties as Record<string, unknown>),
      // Draft 4 has no propertyNames: keys are checked with patternProperties (the reserved names are refused
      // by the handler, with a message).
      metadata: {
        type: 'object',
        maxProperties: API_LIMITS.maxMetadataKeys,
        patternProperties: {
          [API_LIMITS.metadataKeyPattern]: { type: 'string', maxLength: API_LIMITS.maxMetadataValueChars },
        },
        additionalProperties: false,
      },
    },
  };
}

/** One model call made for a request. */
export interface Attempt {
  readonly tier: string;
  readonly modelId: string;
  readonly outcome: 'ok' | 'throttled' | 'unavailable' | 'timeout' | 'denied' | 'error';
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly latencyMs: number;
  readonly confidence?: number;
  /** What moved the confidence score (e.g. `stop:max_tokens`, `hedging`, `arithmetic-mismatch`). */
  readonly signals?: readonly string[];
  readonly stopReason?: string;
  readonly errorCode?: string;
  /** Why this call was made: `route`, `fallback`, `escalation`. */
  readonly reason?: string;
  /** Text units the tenant's guardrail evaluated on this call, per billed policy (included in `costUsd`). */
  readonly guardrailUnits?: GuardrailUnits;
}

/** `200` (completed) or `202` (pending_review) answer of `POST /v1/inference`. */
export interface InferenceResponse {
  readonly requestId: string;
  /**
   * `completed` or `pending_review` for a new request; a replay of an idempotency key reports the record's
   * current status, which a review may have moved on to `reviewed`, `rejected` or `expired`.
   */
  readonly status: 'completed' | 'pending_review' | 'reviewed' | 'rejected' | 'expired';
  /** The answer; `null` while a person has not decided, and for a rejected (or expired-and-rejected) answer. */
  readonly output: string | null;
  readonly reviewId?: string;
  readonly routeReason: string;
  readonly tier: string;
  readonly modelId: string;
  readonly confidence: number | null;
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
  readonly costUsd: number;
  readonly escalated: boolean;
  /**
   * True when the answer stopped at the `maxTokens` the caller set (below the most the tenant allows): it is
   * returned as it is, cut short, and is neither escalated to a stronger tier nor sent to human review.
   */
  readonly truncated: boolean;
  readonly attempts: readonly Attempt[];
  /**
   * `intervened`: the tenant's guardrail blocked the prompt or replaced or masked the answer; `output` is then
   * the guardrail's text. Absent otherwise.
   */
  readonly guardrail?: 'intervened';
}

/** Request record statuses (`GET /v1/requests/{requestId}`). */
export const REQUEST_STATUSES = [
  'in_progress',
  'completed',
  'pending_review',
  'reviewed',
  'rejected',
  'expired',
  'failed',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
