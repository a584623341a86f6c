/**
 * The `eval-routing` run as a function (so tests can call it in process): replays a data file through the
 * real `scoreRequest`, `chooseTier`, `scoreConfidence` and `cascadeDecision` and returns every figure the
 * script prints. Which rows: when the file is the one the shipped model was trained on (same sha256), only
 * the held-out split; otherwise every row (the router has seen none of them).
 */

import { scoreConfidence } from '../../lambda/inference/core/confidence';
import { ROUTER_MODEL, type RouterModel, scoreRequest } from '../../lambda/inference/core/routing/router';
import { PLAN_DEFAULTS } from '../../lib/config/plan-defaults';
import { auroc, loadDataset, splitOf } from './data';
import {
  CURVE_THRESHOLDS,
  cascadeOutcomes,
  DEFAULT_OUTPUT_TOKENS,
  EVAL_ALLOWED_TIERS,
  fixedOutcomes,
  randomOutcomes,
  reviewShare,
  round,
  routeAll,
  routerCurve,
  routerOutcomes,
  type StrategySummary,
  summarise,
} from './evaluate';

/** Everything `eval-routing` reports. */
export interface RoutingReport {
  readonly rows: number;
  readonly split: 'held-out' | 'all';
  readonly file: string;
  readonly sha256: string;
  readonly thresholds: RouterModel['recommended'];
  readonly allowedTiers: readonly string[];
  readonly strategies: {
    readonly alwaysFast: StrategySummary;
    readonly alwaysDeep: StrategySummary;
    readonly random: StrategySummary;
    readonly router: StrategySummary;
    readonly routerCascade: StrategySummary & { readonly reviewShare: number; readonly escalatedShare: number };
  };
  readonly curve: ({ threshold: number } & StrategySummary)[];
  readonly confidence: {
    readonly rows: number;
    readonly auroc: number;
    readonly threshold: number;
    readonly acceptedShare: number;
    readonly acceptedAccuracy: number;
    readonly baseAccuracy: number;
  };
  readonly bySource: Record<string, { rows: number; router: StrategySummary; routerCascade: StrategySummary }>;
  readonly assumptions: string;
}

/** Runs the evaluation on `file` with `model` (default: the shipped model). */
export function evaluateRouting(file: string, model: RouterModel = ROUTER_MODEL): RoutingReport {
  const data = loadDataset(file);
  const heldOut = data.sha256 === model.trainedOn.sha256;
  const rows = heldOut ? data.rows.filter((r) => splitOf(r.id) === 'held-out') : data.rows;
  // The default configured thresholds: what a standard-plan tenant gets (the plan defaults take the
  // router's recommended values, chosen on training data). A model passed in (tests) brings its own.
  const th =
    model === ROUTER_MODEL
      ? {
          deepThreshold: PLAN_DEFAULTS.standard.routing.deepThreshold,
          balancedThreshold: PLAN_DEFAULTS.standard.routing.balancedThreshold,
          confidenceThreshold: PLAN_DEFAULTS.standard.escalation.confidenceThreshold,
          reviewThreshold: PLAN_DEFAULTS.standard.escalation.reviewThreshold,
        }
      : model.recommended;
  const scores = rows.map((r) => scoreRequest(model, r.prompt).score);
  const confidences = rows.map((r) =>
    r.weak_response === undefined
      ? undefined
      : scoreConfidence({ prompt: r.prompt, text: r.weak_response, stopReason: 'end_turn' }).confidence,
  );
  const tiers = routeAll(scores, th);
  const router = summarise(rows, routerOutcomes(rows, tiers));
  const cascade = cascadeOutcomes(rows, tiers, confidences, th);
  const escalated = cascade.filter((o) => (o.attempts ?? 1) > 1).length;

  const bySource: RoutingReport['bySource'] = {};
  for (const source of [...new Set(rows.map((r) => r.source))].sort()) {
    const idx = rows.map((_, i) => i).filter((i) => rows[i]!.source === source);
    const sub = idx.map((i) => rows[i]!);
    bySource[source] = {
      rows: sub.length,
      router: summarise(
        sub,
        routerOutcomes(
          sub,
          idx.map((i) => tiers[i]!),
        ),
      ),
      routerCascade: summarise(
        sub,
        idx.map((i) => cascade[i]!),
      ),
    };
  }

  const scored = rows.map((r, i) => ({ r, c: confidences[i] })).filter((x) => x.c !== undefined);
  const accepted = scored.filter((x) => x.c! >= th.confidenceThreshold);
  const right = (xs: typeof scored) => xs.filter((x) => x.r.weak_quality >= 0.5).length;
  return {
    rows: rows.length,
    split: heldOut ? 'held-out' : 'all',
    file: data.file,
    sha256: data.sha256,
    thresholds: th,
    allowedTiers: EVAL_ALLOWED_TIERS,
    strategies: {
      alwaysFast: summarise(rows, fixedOutcomes(rows, 'fast')),
      alwaysDeep: summarise(rows, fixedOutcomes(rows, 'deep')),
      random: summarise(rows, randomOutcomes(rows, router.deepShare)),
      router,
      routerCascade: {
        ...summarise(rows, cascade),
        reviewShare: reviewShare(cascade),
        escalatedShare: round(rows.length ? escalated / rows.length : 0),
      },
    },
    curve: routerCurve(rows, scores, CURVE_THRESHOLDS),
    confidence: {
      rows: scored.length,
      auroc: round(
        auroc(
          scored.map((x) => x.c!),
          scored.map((x) => x.r.weak_quality >= 0.5),
        ),
      ),
      threshold: th.confidenceThreshold,
      acceptedShare: round(scored.length ? accepted.length / scored.length : 0),
      acceptedAccuracy: round(accepted.length ? right(accepted) / accepted.length : 0),
      baseAccuracy: round(scored.length ? right(scored) / scored.length : 0),
    },
    bySource,
    assumptions:
      `tokens: input ⌈prompt chars / 4⌉, output ⌈weak_response chars / 4⌉ or ${DEFAULT_OUTPUT_TOKENS}; ` +
      'fast/balanced answers count with weak quality, deep with strong; allowed tiers fast, balanced, deep; ' +
      'cascade scores only answers the data has text for (GSM8K weak answers), otherwise the decision stands',
  };
}
