/**
 * Confidence of a model's answer (0–1), from what the response itself shows. Pure and cheap (regular
 * expressions over the answer; no model call), so the cascade can score every answer.
 *
 * Signals, applied in this order (each one that fires is named in `signals`):
 * 1. Hard caps. An empty answer scores 0. Stop reason `max_tokens` (the answer was cut off) caps the score at
 *    0.15; `content_filtered` / `guardrail_intervened` cap it at 0.05. A refusal ("I can't help with…",
 *    "I'm sorry, but…", "As an AI…") caps it at 0.1.
 * 2. Agreement checks, where they are cheap:
 *    - every arithmetic claim is re-computed: GSM8K-style annotations `<<60*3=180>>` (chains such as
 *      `<<a=b=c>>` too) and inline claims such as `60 * 3 = 180` or `12 x 4 = 48` (operators + - * / x × ÷,
 *      parentheses). A claim that does not hold within the precision it was written with costs 0.4 each.
 *    - for a maths word problem (the prompt has at least two numbers and asks a question): no final answer
 *      (`#### 42`, "The answer is 42", "Answer: 42") costs 0.35; a non-numeric final answer 0.3; a fraction
 *      or decimal final answer to a "how many" question 0.35; a negative final answer 0.2; a final answer
 *      that is not the result of the last computation 0.1; ignoring more than half of the prompt's numbers 0.1.
 * 3. Hedging and self-correction ("I think", "probably", "approximately", "not sure", "however",
 *    "wait", "assuming", "let me re…") cost 0.1 each, at most 0.3 in all.
 * 4. Stated confidence, only for a tenant that opts in (`honourStated`, the tenant file's
 *    `escalation.honourStatedConfidence`; off by default, since whoever writes the prompt can make the model
 *    write "Confidence: 0.99" and so skip the cascade and review). When the prompt asked for it, the model reports
 *    its own confidence in a structured way, and the scorer reads the LAST such statement: a line
 *    `Confidence: 0.8` (or `Confidence: 80%`, `confidence = 0.8`), or a JSON member `"confidence": 0.8`. Values
 *    above 1 are read as percentages. The result is the mean of the heuristic score and the stated value, so a
 *    model cannot talk its way past a failed check, and a wrong check cannot overrule a confident, consistent
 *    answer on its own. Not opted in, a statement is named in the signals (`stated-ignored`) and changes nothing.
 *
 * The heuristic score starts at 0.9 (an answer that passes every check is likely but not certainly right)
 * and is clamped to 0..1. Evaluated on the GSM8K rows of the routing data set by `npm run eval:routing`.
 */

import { inlineArithmeticClaims } from './arithmetic-scan';

/** What the scorer looks at: the request, the answer text and the model's stop reason. */
export interface ConfidenceInput {
  readonly prompt: string;
  readonly text: string;
  /** The Converse stop reason (`end_turn`, `max_tokens`, `content_filtered`, `guardrail_intervened`, …). */
  readonly stopReason: string;
  /**
   * A time budget: checks stop once `now()` passes `deadline` (signal `scoring:over-budget`, score capped at
   * {@link OVER_BUDGET_CAP}, so an answer that could not be checked is never trusted). Every check is linear in
   * the answer, so this is a safety net, not the plan.
   * @default - no time budget
   */
  readonly budget?: { readonly now: () => number; readonly deadline: number };
  /**
   * Count a stated confidence ("Confidence: 0.8") toward the score. Only for tenants that opt in: a prompt can
   * make the model state any value.
   * @default false
   */
  readonly honourStated?: boolean;
}

/** The highest score an answer gets when its checks ran out of time. */
export const OVER_BUDGET_CAP = 0.5;

/** A confidence in 0..1 and the names of the signals that moved it (for the record and for debugging). */
export interface ConfidenceResult {
  readonly confidence: number;
  readonly signals: string[];
}

const BASE = 0.9;
/** Characters (from the end of the answer) the arithmetic checks read. */
const ARITHMETIC_WINDOW = 20_000;

const REFUSAL =
  /\b(?:i (?:can(?:'|’)?t|cannot|am unable to|'m unable to|won(?:'|’)t) (?:help|assist|provide|answer|comply|do that)|i(?:'|’)m sorry,? but|as an ai(?: language model)?)\b/i;
const HEDGES: readonly [string, RegExp][] = [
  ['hedge:i-think', /\bi (?:think|believe|guess)\b/i],
  ['hedge:probably', /\b(?:probably|perhaps|maybe|likely|might be|may be)\b/i],
  ['hedge:approximately', /\b(?:approximately|roughly|about \d|around \d)\b|≈/i],
  ['hedge:not-sure', /\b(?:not (?:entirely )?sure|uncertain|unclear|ambiguous)\b/i],
  ['hedge:self-correction', /\b(?:however|wait|actually|let me re|let's re|correction|mistake)\b/i],
  ['hedge:assuming', /\b(?:assum(?:e|ing|ption)|if we assume)\b/i],
];

const ANNOTATION = /<<([^<>]*)>>/g;
/** At most this many arithmetic claims are re-computed (work bound; the rest are not counted). */
const MAX_CLAIMS = 2_000;
/** Parentheses nested deeper than this are not evaluated (bounded recursion). */
const MAX_NESTING = 64;
/**
 * A stated confidence: a line (indentation allowed, no blank lines: `[ \t]`, so a run of newlines cannot make the
 * pattern re-scan it from every line start) `Confidence: 0.8`, or a JSON member `"confidence": 0.8`.
 */
const STATED =
  /(?:^|\n)[ \t]*[*_]*confidence[*_]*\s*[:=]\s*(\d+(?:\.\d+)?)\s*(%?)|"confidence"\s*:\s*"?(\d+(?:\.\d+)?)/gi;
const FINAL = /####\s*([^\n]*)|\b(?:the (?:final )?answer is|answer:)\s*\$?\s*([^\n]*)/gi;

/** Scores an answer; see the file header for the signals and their weights. */
export function scoreConfidence(input: ConfidenceInput): ConfidenceResult {
  const signals: string[] = [];
  const text = input.text.trim();
  if (text === '') return { confidence: 0, signals: ['empty'] };

  let cap = 1;
  const stop = input.stopReason.toLowerCase();
  if (stop === 'max_tokens') {
    cap = 0.15;
    signals.push('stop:max_tokens');
  } else if (stop === 'content_filtered' || stop === 'guardrail_intervened') {
    cap = 0.05;
    signals.push(`stop:${stop}`);
  }
  if (REFUSAL.test(text)) {
    cap = Math.min(cap, 0.1);
    signals.push('refusal');
  }

  const overBudget = () => input.budget !== undefined && input.budget.now() > input.budget.deadline;
  const stopped = (score: number) => {
    signals.push('scoring:over-budget');
    return { confidence: round3(Math.min(clamp01(score), cap, OVER_BUDGET_CAP)), signals };
  };

  let score = BASE;
  // Arithmetic is re-checked in the last ARITHMETIC_WINDOW characters only (where the working and the final
  // answer are): bounded work however long the answer is.
  const arithmetic = checkArithmetic(text.length > ARITHMETIC_WINDOW ? text.slice(-ARITHMETIC_WINDOW) : text);
  if (arithmetic.wrong > 0) {
    score -= 0.4 * arithmetic.wrong;
    signals.push(`arithmetic:wrong×${arithmetic.wrong}`);
  } else if (arithmetic.checked > 0) {
    signals.push(`arithmetic:ok×${arithmetic.checked}`);
  }
  if (overBudget()) return stopped(score);
  score -= mathAnswerPenalty(input.prompt, text, arithmetic.lastResult, signals);
  if (overBudget()) return stopped(score);

  let hedge = 0;
  for (const [name, re] of HEDGES) {
    if (re.test(text)) {
      hedge += 0.1;
      signals.push(name);
    }
  }
  score -= Math.min(hedge, 0.3);
  score = clamp01(score);
  if (overBudget()) return stopped(score);

  const stated = statedConfidence(text);
  if (stated !== undefined && input.honourStated === true) {
    score = (score + stated) / 2;
    signals.push(`stated:${stated}`);
  } else if (stated !== undefined) {
    signals.push('stated-ignored');
  }
  return { confidence: round3(Math.min(score, cap)), signals };
}

/** The last structured confidence statement in `text`, as 0..1; undefined when there is none. */
export function statedConfidence(text: string): number | undefined {
  let value: number | undefined;
  for (const m of text.matchAll(STATED)) {
    const raw = Number(m[1] ?? m[3]);
    if (!Number.isFinite(raw)) continue;
    value = m[2] === '%' || raw > 1 ? raw / 100 : raw;
  }
  return value === undefined ? undefined : clamp01(value);
}

/** Re-computes every arithmetic claim in `text`. */
export function checkArithmetic(text: string): { checked: number; wrong: number; lastResult?: number } {
  let checked = 0;
  let wrong = 0;
  let lastResult: number | undefined;
  let lastAt = -1;
  const annotated: [number, number][] = [];
  for (const m of text.matchAll(ANNOTATION)) {
    if (checked >= MAX_CLAIMS) break;
    const at = m.index ?? 0;
    annotated.push([at, at + m[0].length]);
    const parts = (m[1] ?? '').split('=');
    if (parts.length < 2) continue;
    const claimed = parseNumber(parts[parts.length - 1]!);
    if (claimed === undefined) continue;
    checked++;
    const ok = parts.slice(0, -1).every((p) => {
      const v = evaluate(p);
      return v === undefined || agrees(v, parts[parts.length - 1]!);
    });
    if (!ok) wrong++;
    if (at > lastAt) {
      lastAt = at;
      lastResult = claimed;
    }
  }
  let annotation = 0;
  for (const m of inlineArithmeticClaims(text)) {
    if (checked >= MAX_CLAIMS) break;
    const at = m.index;
    // The inline form next to an annotation ("60 * 3 = <<60*3=180>>180") is the same claim; skip it. Both lists
    // are in text order, so one pass over the annotations serves every claim.
    while (annotation < annotated.length && annotated[annotation]![1] <= at) annotation++;
    const near = annotated[annotation];
    if (near && at >= near[0] - 2 && at < near[1]) continue;
    const parts = m.text.split('=');
    // A chain of plain numbers ("2 = 2") or without any operator claims nothing worth checking.
    if (!parts.some((p) => /\d\s*(?:[-+*/x×÷]|\\\*)\s*[\d($(]/.test(p))) continue;
    const last = parts[parts.length - 1]!;
    const lastNumber = parseNumber(last);
    const target = lastNumber ?? evaluate(last);
    if (target === undefined) continue;
    checked++;
    const ok = parts.slice(0, -1).every((p) => {
      const v = evaluate(p);
      if (v === undefined) return true;
      return lastNumber !== undefined ? agrees(v, last) : Math.abs(v - target) <= 1e-6 * Math.max(1, Math.abs(target));
    });
    if (!ok) wrong++;
    if (at > lastAt) {
      lastAt = at;
      lastResult = target;
    }
  }
  return lastResult === undefined ? { checked, wrong } : { checked, wrong, lastResult };
}

/** Penalties for a maths word problem's final answer; 0 for other prompts. */
function mathAnswerPenalty(prompt: string, text: string, lastResult: number | undefined, signals: string[]): number {
  const promptNumbers = prompt.match(/\d[\d,]*(?:\.\d+)?/g) ?? [];
  const isWordProblem = promptNumbers.length >= 2 && /\?|\b(?:how many|how much|what|find|calculate)\b/i.test(prompt);
  if (!isWordProblem) return 0;
  let penalty = 0;
  let final: string | undefined;
  for (const m of text.matchAll(FINAL)) final = (m[1] ?? m[2] ?? '').trim();
  if (final === undefined || final === '') {
    signals.push('final:missing');
    return 0.35;
  }
  const finalNumberText = final.match(/-?\d[\d,]*(?:\.\d+)?/)?.[0];
  const value = finalNumberText === undefined ? undefined : parseNumber(finalNumberText);
  if (value === undefined) {
    signals.push('final:not-numeric');
    return 0.3;
  }
  const fractional = /\d\s*\/\s*\d|\d\s+\d\/\d/.test(final) || !Number.isInteger(value);
  if (fractional && /\bhow many\b/i.test(prompt)) {
    penalty += 0.35;
    signals.push('final:fraction-for-count');
  } else if (fractional) {
    penalty += 0.2;
    signals.push('final:fraction');
  }
  if (value < 0) {
    penalty += 0.2;
    signals.push('final:negative');
  }
  if (lastResult !== undefined && Math.abs(lastResult - value) > 1e-6 * Math.max(1, Math.abs(value))) {
    penalty += 0.1;
    signals.push('final:not-last-result');
  }
  const used = new Set((text.match(/\d[\d,]*(?:\.\d+)?/g) ?? []).map((s) => s.replace(/,/g, '')));
  const distinct = [...new Set(promptNumbers.map((s) => s.replace(/,/g, '')))];
  const unused = distinct.filter((n) => !used.has(n)).length;
  if (distinct.length >= 2 && unused / distinct.length > 0.5) {
    penalty += 0.1;
    signals.push('prompt-numbers:unused');
  }
  return penalty;
}

/** True when `value` equals the claimed number within the precision the claim was written with. */
function agrees(value: number, claimedText: string): boolean {
  const claimed = parseNumber(claimedText);
  if (claimed === undefined) return true;
  const decimals = claimedText.trim().match(/\.(\d+)/)?.[1]?.length ?? 0;
  const tolerance = decimals === 0 ? 1e-6 * Math.max(1, Math.abs(claimed)) : 0.5 * 10 ** -decimals + 1e-9;
  return Math.abs(value - claimed) <= tolerance;
}

function parseNumber(s: string): number | undefined {
  const t = s.trim().replace(/^\$/, '').replace(/,/g, '');
  if (!/^-?(?:\d+(?:\.\d+)?|\.\d+)$/.test(t)) return undefined;
  return Number(t);
}

/**
 * Evaluates + - * / and parentheses over decimal numbers (`x`, `×`, `\*` multiply; `÷` divides; `$` and
 * thousands commas are ignored). Undefined for anything else, so unknown notation never counts as wrong.
 */
export function evaluate(expr: string): number | undefined {
  const src = expr
    .replace(/\\\*/g, '*')
    .replace(/[x×]/g, '*')
    .replace(/÷/g, '/')
    .replace(/[$,\s]/g, '');
  if (src === '' || /[^\d.+\-*/()]/.test(src)) return undefined;
  let i = 0;
  let depth = 0;
  const peek = () => src[i];
  const NUMBER = /\d*\.?\d+/y;
  const parseExpr = (): number | undefined => {
    let left = parseTerm();
    while (left !== undefined && (peek() === '+' || peek() === '-')) {
      const op = src[i++];
      const right = parseTerm();
      if (right === undefined) return undefined;
      left = op === '+' ? left + right : left - right;
    }
    return left;
  };
  const parseTerm = (): number | undefined => {
    let left = parseFactor();
    while (left !== undefined && (peek() === '*' || peek() === '/')) {
      const op = src[i++];
      const right = parseFactor();
      if (right === undefined) return undefined;
      left = op === '*' ? left * right : left / right;
    }
    return left;
  };
  const parseFactor = (): number | undefined => {
    if (peek() === '-') {
      // "--…-1" nests like parentheses.
      if (++depth > MAX_NESTING) return undefined;
      i++;
      const v = parseFactor();
      depth--;
      return v === undefined ? undefined : -v;
    }
    if (peek() === '(') {
      if (++depth > MAX_NESTING) return undefined;
      i++;
      const v = parseExpr();
      depth--;
      if (peek() !== ')') return undefined;
      i++;
      return v;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(src);
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  const v = parseExpr();
  return v !== undefined && i === src.length && Number.isFinite(v) ? v : undefined;
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The scorer of a tenant: stated confidence counts only when its file opts in. */
export function confidenceScorer(opts: { readonly honourStated: boolean }) {
  return (input: Omit<ConfidenceInput, 'honourStated'>): ConfidenceResult =>
    scoreConfidence({ ...input, honourStated: opts.honourStated });
}
