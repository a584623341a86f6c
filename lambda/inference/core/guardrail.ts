/**
 * The tenant's Amazon Bedrock guardrail as the service sees it. Pure: reads the guardrail assessment Converse
 * returns (`trace.guardrail`) into what the record keeps (whether it intervened, on the prompt or on the answer,
 * which policies fired; never the text they matched), prices the text units it evaluated, and bounds what a
 * call may cost before it runs.
 *
 * An intervention is final: the guardrail's text (its blocked message, or the answer with sensitive data masked)
 * is the answer. It is not scored down the cascade to a stronger model or handed to human review: a stronger
 * model would meet the same guardrail, and a reviewer would be shown what the guardrail kept back.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-use-converse-api.html
 */
import {
  GUARDRAIL_TEXT_UNIT_CHARS,
  type GuardrailPolicy,
  type GuardrailUnits,
  guardrailCostNanoUsd,
} from '../../shared/catalog';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import type { GuardrailRecord } from './ports';

/** The Converse stop reason of a call whose prompt or answer the guardrail blocked or masked. */
export const GUARDRAIL_INTERVENED = 'guardrail_intervened';

/** What the guardrail did on one call, as the record keeps it. */
export interface GuardrailOutcome {
  readonly intervened: boolean;
  /** `input`: the prompt was blocked and no model ran; `output`: the answer was blocked or masked. */
  readonly on?: 'input' | 'output';
  /**
   * What acted, as `policy:type:action`: `content:PROMPT_ATTACK:BLOCKED`, `sensitiveInformation:EMAIL:ANONYMIZED`,
   * `topics:Investment advice:BLOCKED`. Names and types only, never the matched text.
   */
  readonly findings: readonly string[];
  /** Text units evaluated (prompt and answer), per billed policy. */
  readonly units: GuardrailUnits;
}

/** The parts of a guardrail assessment (Converse `GuardrailAssessment`) read here. */
interface Finding {
  readonly type?: string;
  readonly name?: string;
  readonly action?: string;
}
export interface GuardrailAssessmentLike {
  readonly topicPolicy?: { readonly topics?: readonly Finding[] };
  readonly contentPolicy?: { readonly filters?: readonly Finding[] };
  readonly wordPolicy?: { readonly customWords?: readonly Finding[]; readonly managedWordLists?: readonly Finding[] };
  readonly sensitiveInformationPolicy?: {
    readonly piiEntities?: readonly Finding[];
    readonly regexes?: readonly Finding[];
  };
  readonly invocationMetrics?: {
    readonly usage?: {
      readonly contentPolicyUnits?: number;
      readonly topicPolicyUnits?: number;
      readonly sensitiveInformationPolicyUnits?: number;
    };
  };
}
/** The guardrail part of a Converse response's trace. */
export interface GuardrailTraceLike {
  readonly inputAssessment?: Readonly<Record<string, GuardrailAssessmentLike>>;
  readonly outputAssessments?: Readonly<Record<string, readonly GuardrailAssessmentLike[]>>;
}

/** At most this many findings are kept per call; at most this many assessments and entries are read. */
const MAX_FINDINGS = 20;
const MAX_ASSESSMENTS = 16;
const MAX_ENTRIES = 200;
/** Longest finding name kept (a denied topic's name is at most 100 characters). */
const MAX_NAME = 100;
/** Largest unit count believed from one assessment (a 200,000-character prompt is 200 units). */
const MAX_UNITS = 1_000_000;

const units = (n: unknown): number =>
  typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.min(MAX_UNITS, Math.floor(n)) : 0;

/** Reads the guardrail assessment of one Converse response. Work is bounded whatever the response holds. */
export function readGuardrailTrace(stopReason: string, trace: GuardrailTraceLike | undefined): GuardrailOutcome {
  const findings = new Set<string>();
  const total: Record<GuardrailPolicy, number> = { content: 0, topics: 0, sensitiveInformation: 0 };
  let inputBlocked = false;
  let read = 0;
  const visit = (a: GuardrailAssessmentLike | undefined, stage: 'input' | 'output') => {
    if (!a || typeof a !== 'object' || read++ >= MAX_ASSESSMENTS) return;
    const u = a.invocationMetrics?.usage;
    total.content += units(u?.contentPolicyUnits);
    total.topics += units(u?.topicPolicyUnits);
    total.sensitiveInformation += units(u?.sensitiveInformationPolicyUnits);
    const lists: Array<[string, readonly Finding[] | undefined, 'type' | 'name']> = [
      ['content', a.contentPolicy?.filters, 'type'],
      ['topics', a.topicPolicy?.topics, 'name'],
      ['words', a.wordPolicy?.customWords, 'type'],
      ['words', a.wordPolicy?.managedWordLists, 'type'],
      ['sensitiveInformation', a.sensitiveInformationPolicy?.piiEntities, 'type'],
      ['sensitiveInformation', a.sensitiveInformationPolicy?.regexes, 'name'],
    ];
    for (const [policy, list, label] of lists) {
      if (!Array.isArray(list)) continue;
      for (const f of list.slice(0, MAX_ENTRIES)) {
        const action = typeof f?.action === 'string' ? f.action : 'NONE';
        if (action === 'NONE') continue;
        if (stage === 'input' && action === 'BLOCKED') inputBlocked = true;
        if (findings.size >= MAX_FINDINGS) continue;
        // A custom word is the matched text itself: only its policy is named.
        const what = policy === 'words' && label === 'type' && f.type === undefined ? 'CUSTOM_WORD' : f[label];
        findings.add(`${policy}:${String(what ?? 'unknown').slice(0, MAX_NAME)}:${action.slice(0, 16)}`);
      }
    }
  };
  const input = trace?.inputAssessment;
  if (input && typeof input === 'object') for (const a of Object.values(input)) visit(a, 'input');
  const outputs = trace?.outputAssessments;
  if (outputs && typeof outputs === 'object') {
    for (const list of Object.values(outputs)) {
      if (Array.isArray(list)) for (const a of list.slice(0, MAX_ASSESSMENTS)) visit(a, 'output');
    }
  }
  const intervened = stopReason === GUARDRAIL_INTERVENED;
  const billed = Object.fromEntries(Object.entries(total).filter(([, n]) => n > 0)) as GuardrailUnits;
  return {
    intervened,
    ...(intervened ? { on: inputBlocked ? ('input' as const) : ('output' as const) } : {}),
    findings: [...findings],
    units: billed,
  };
}

/** True when the guardrail's text is the answer (no escalation, no review). */
export function isGuardrailFinal(reply: { readonly stopReason: string }): boolean {
  return reply.stopReason === GUARDRAIL_INTERVENED;
}

/** Characters an output token is taken to cover at most (tokenizers average 3 to 5), for a call's worst case. */
export const MAX_CHARS_PER_OUTPUT_TOKEN = 8;

/** What every model call of a tenant adds to the request's own text, for its worst-case cost. */
export interface CallExtras {
  /** UTF-8 bytes of the system preambles (an upper bound on their tokens). */
  readonly preambleBytes: number;
  /** System blocks the preambles add. */
  readonly preambleBlocks: number;
  /** The billed policies of the tenant's guardrail. */
  readonly guardrailPolicies: readonly GuardrailPolicy[];
}

/** No preamble, no guardrail. */
export const NO_CALL_EXTRAS: CallExtras = { preambleBytes: 0, preambleBlocks: 0, guardrailPolicies: [] };

/** The extras of a tenant's calls, from its runtime configuration. */
export function callExtrasOf(config: Pick<TenantRuntimeConfig, 'preamble' | 'guardrail'>): CallExtras {
  const texts = [config.preamble.platform, config.preamble.tenant].filter((t): t is string => !!t);
  return {
    preambleBytes: texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0),
    preambleBlocks: texts.length,
    guardrailPolicies: config.guardrail.policies,
  };
}

/**
 * The most a call's guardrail can cost: every billed policy over the prompt's characters (each content block
 * rounded up to a whole unit) and over an answer of `maxTokens` at {@link MAX_CHARS_PER_OUTPUT_TOKEN} characters
 * a token. The preambles are not evaluated (they are trusted system text).
 */
export function guardrailWorstCaseNanoUsd(
  policies: readonly GuardrailPolicy[],
  call: { readonly inputChars: number; readonly inputBlocks: number; readonly maxTokens: number },
): number {
  if (policies.length === 0) return 0;
  const input = Math.ceil(call.inputChars / GUARDRAIL_TEXT_UNIT_CHARS) + call.inputBlocks;
  const output = Math.ceil((call.maxTokens * MAX_CHARS_PER_OUTPUT_TOKEN) / GUARDRAIL_TEXT_UNIT_CHARS);
  return guardrailCostNanoUsd(Object.fromEntries(policies.map((p) => [p, input + output])));
}

/** What the record keeps of a call's intervention, or `undefined` when the guardrail let the call through. */
export function guardrailRecordOf(call: {
  readonly tier: string;
  readonly modelId: string;
  readonly reply: { readonly stopReason: string; readonly guardrail?: GuardrailOutcome };
}): GuardrailRecord | undefined {
  if (!isGuardrailFinal(call.reply)) return undefined;
  return {
    intervened: true,
    on: call.reply.guardrail?.on ?? 'output',
    findings: [...(call.reply.guardrail?.findings ?? [])],
    tier: call.tier,
    modelId: call.modelId,
  };
}
