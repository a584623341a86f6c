/**
 * The rules across the fields of a tenant file, in the style of aws-cdk's `validate-queue-props`: each rule is a
 * small function that reads the file and the tenant with its plan defaults applied (tenant-config.ts) and returns
 * what is wrong, each problem naming the field, the value and what is allowed. {@link RESOLUTION_RULES} runs them
 * in order, so the problems of one file always come in the same order.
 */
import type { Tier } from '../catalog';
// How long the review state machine may run past the review timeout: defined with the review runtime config.
import { REVIEW_EXECUTION_MARGIN_MINUTES } from '../review-schema';
import { POOLED_RATE_CEILING_PER_SECOND } from '../tenant-admission';
import { PREAMBLE_MAX_CHARS } from '../tenant-runtime';
import { checkWebhookUrl, shownOrigin } from '../webhook-url';
import { ALWAYS_BLOCKED_PII } from './guardrail-policy';
import type { FieldProblem, TenantConfig } from './tenant-config';
import type { TenantFile } from './tenant-schema';

export { REVIEW_EXECUTION_MARGIN_MINUTES };

/** A rule across fields: the problems it finds in a file (with its plan defaults applied), or none. */
export type ResolutionRule = (file: TenantFile, tenant: TenantConfig) => FieldProblem[];

const quoted = (tiers: readonly Tier[]) => tiers.map((t) => `"${t}"`).join(' | ');

/** The default tier is one of the allowed tiers. */
export const defaultTierIsAllowed: ResolutionRule = (_file, { models }) =>
  models.allowed.includes(models.default)
    ? []
    : [
        {
          path: 'models.default',
          message: `"${models.default}" is not in models.allowed; allowed: ${quoted(models.allowed)}`,
        },
      ];

/** Model overrides and fallbacks name allowed tiers only. */
export const overriddenTiersAreAllowed: ResolutionRule = (file, { models: { allowed } }) => [
  ...(Object.keys(file.models?.overrides ?? {}) as Tier[])
    .filter((t) => !allowed.includes(t))
    .map((t) => ({
      path: `models.overrides.${t}`,
      message: `tier "${t}" is not in models.allowed (${allowed.join(', ')}); remove the override or allow the tier`,
    })),
  ...(Object.keys(file.models?.fallbacks ?? {}) as Tier[])
    .filter((t) => !allowed.includes(t))
    .map((t) => ({
      path: `models.fallbacks.${t}`,
      message: `tier "${t}" is not in models.allowed (${allowed.join(', ')}); remove the fallbacks or allow the tier`,
    })),
];

/** The router's balanced threshold is at most its deep threshold. */
export const routingThresholdsInOrder: ResolutionRule = (_file, { routing }) =>
  routing.balancedThreshold > routing.deepThreshold
    ? [
        {
          path: 'routing.balancedThreshold',
          message: `${routing.balancedThreshold} is above routing.deepThreshold (${routing.deepThreshold}); it must be at most that`,
        },
      ]
    : [];

/** The command that sets a tenant's full webhook URL (README, "Webhooks"). */
function webhookSetCommand(tenantId: string): string {
  return `npm run webhook:set -- --tenant ${tenantId} --url '<url>'`;
}

/**
 * The webhook is declared by its origin, checked like every webhook URL (lambda/shared/webhook-url.ts); the former
 * `webhookUrl` is refused with what to do instead. Problems never show a path or query: they may carry a secret,
 * and synth output ends up in CI logs.
 */
export const webhookIsAnOrigin: ResolutionRule = (file) => {
  const problems: FieldProblem[] = [];
  const legacyUrl = file.escalation?.webhookUrl;
  const webhook = file.escalation?.webhook;
  const setIt = `set the full URL after deploying with ${webhookSetCommand(file.id)} (README, "Webhooks")`;
  if (legacyUrl !== undefined) {
    const asOrigin = checkWebhookUrl(shownOrigin(legacyUrl).replace(/\/…$/, ''), 'origin');
    const declare = asOrigin.ok ? `escalation.webhook.origin: "${asOrigin.origin}"` : 'escalation.webhook.origin';
    problems.push({
      path: 'escalation.webhookUrl',
      message: `got ${JSON.stringify(shownOrigin(legacyUrl))} (the rest is not shown: it may carry a secret); no longer accepted, because a webhook URL often carries a secret and would sit in the template and the function's environment: declare ${declare} and ${setIt}`,
    });
  }
  if (!webhook) return problems;
  const checked = checkWebhookUrl(webhook.origin, 'origin');
  if (checked.ok) return problems;
  const full = checkWebhookUrl(webhook.origin, 'url');
  problems.push({
    path: 'escalation.webhook.origin',
    message: full.ok
      ? `got ${JSON.stringify(shownOrigin(webhook.origin))} (the rest is not shown: it may carry a secret); ${checked.problem}: declare "${full.origin}" and ${setIt}`
      : `got ${JSON.stringify(shownOrigin(webhook.origin))}; ${checked.problem}`,
  });
  return problems;
};

/** A review nobody opened expires before the review timeout. */
export const heartbeatBeforeTimeout: ResolutionRule = (_file, { escalation }) =>
  escalation.reviewHeartbeatMinutes >= escalation.reviewTimeoutMinutes
    ? [
        {
          path: 'escalation.reviewHeartbeatMinutes',
          message: `${escalation.reviewHeartbeatMinutes} must be below escalation.reviewTimeoutMinutes (${escalation.reviewTimeoutMinutes})`,
        },
      ]
    : [];

/** The review threshold is at most the cascade's confidence threshold. */
export const reviewBelowCascade: ResolutionRule = (_file, { escalation }) =>
  escalation.reviewThreshold > escalation.confidenceThreshold
    ? [
        {
          path: 'escalation.reviewThreshold',
          message: `${escalation.reviewThreshold} is above escalation.confidenceThreshold (${escalation.confidenceThreshold}); it must be at most that`,
        },
      ]
    : [];

/** Review on with nobody to tell: answers would wait in a queue nobody knows about until they time out. */
export const reviewHasReviewers: ResolutionRule = (file, { escalation }) => {
  if (!(escalation.reviewThreshold > 0 && escalation.reviewerEmails.length === 0)) return [];
  const from = file.escalation?.reviewThreshold === undefined ? ` (the ${file.plan} plan's)` : '';
  return [
    {
      path: 'escalation.reviewerEmails',
      message: `got none; escalation.reviewThreshold is ${escalation.reviewThreshold}${from}, so answers can go to human review, but no reviewer would be told: add a reviewer e-mail, or set escalation.reviewThreshold: 0 to turn human review off`,
    },
  ];
};

/** A request's record (and its review) outlives the longest review, or TTL removes what the workflow reads. */
export const recordsOutliveReviews: ResolutionRule = (_file, { dataRetentionDays, escalation }) => {
  const reviewLifetimeMinutes = escalation.reviewTimeoutMinutes + REVIEW_EXECUTION_MARGIN_MINUTES;
  if (dataRetentionDays * 1440 > reviewLifetimeMinutes) return [];
  return [
    {
      path: 'dataRetentionDays',
      message: `${dataRetentionDays} day(s) is not longer than a review may run (escalation.reviewTimeoutMinutes ${escalation.reviewTimeoutMinutes} + ${REVIEW_EXECUTION_MARGIN_MINUTES} min); keep records at least ${Math.floor(reviewLifetimeMinutes / 1440) + 1} days`,
    },
  ];
};

/** The default answer length is at most the longest allowed. */
export const defaultTokensWithinLimit: ResolutionRule = (_file, { limits }) =>
  limits.defaultMaxTokens > limits.maxOutputTokens
    ? [
        {
          path: 'limits.defaultMaxTokens',
          message: `${limits.defaultMaxTokens} is above limits.maxOutputTokens (${limits.maxOutputTokens}); it must be at most that`,
        },
      ]
    : [];

/** The burst is at least the steady rate. */
export const burstAtLeastRate: ResolutionRule = (_file, { throttle }) =>
  throttle.burstLimit < throttle.rateLimit
    ? [
        {
          path: 'throttle.burstLimit',
          message: `${throttle.burstLimit} is below throttle.rateLimit (${throttle.rateLimit}); burst must be at least the rate`,
        },
      ]
    : [];

/**
 * A pooled tenant's rate fits the counter that enforces it: its admission counts land on one DynamoDB partition
 * (lambda/shared/tenant-admission.ts), 1,000 writes a second at most. Checked for tenant files at synth and for
 * documents the control plane is given (`POST`/`PATCH /v1/tenants`).
 */
export const pooledRateWithinCeiling: ResolutionRule = (_file, { isolation, throttle }) =>
  isolation === 'pool' && throttle.rateLimit > POOLED_RATE_CEILING_PER_SECOND
    ? [
        {
          path: 'throttle.rateLimit',
          message: `${throttle.rateLimit} requests/s is above the ${POOLED_RATE_CEILING_PER_SECOND.toLocaleString('en-US')} a pooled tenant may have (its rate is counted on one DynamoDB partition, 1,000 writes a second); lower it, or give the tenant a stack of its own (isolation: silo)`,
        },
      ]
    : [];

/**
 * Settings that need a stack of the tenant's own, which a pooled tenant does not have: it shares its pool cell's
 * function, API, alarms and dashboard (README, "Silo and pooled tenants"). Each is refused with what to do rather
 * than ignored, so a file never promises what the pool cell does not do.
 */
export const STACK_ONLY_SETTINGS: readonly { path: string; set: (f: TenantFile) => boolean; what: string }[] = [
  { path: 'lambda', set: (f) => f.lambda !== undefined, what: 'function (reserved concurrency, memory, timeout)' },
  { path: 'monitoring', set: (f) => f.monitoring !== undefined, what: 'dashboard and alarm set' },
  { path: 'alarms', set: (f) => f.alarms !== undefined, what: 'alarms' },
  { path: 'opsEmails', set: (f) => (f.opsEmails?.length ?? 0) > 0, what: 'ops topic' },
  { path: 'tags', set: (f) => Object.keys(f.tags ?? {}).length > 0, what: 'resources to tag' },
  { path: 'escalation.webhook', set: (f) => f.escalation?.webhook !== undefined, what: 'webhook secret' },
  {
    path: 'escalation.reviewerPrincipals',
    set: (f) => (f.escalation?.reviewerPrincipals?.length ?? 0) > 0,
    what: 'reviewer role',
  },
];

export const pooledTenantHasNoStackSettings: ResolutionRule = (file, { isolation, guardrail }) => {
  if (isolation !== 'pool') return [];
  const fix = 'remove it, or give the tenant a stack of its own (isolation: silo)';
  const problems = STACK_ONLY_SETTINGS.filter((s) => s.set(file)).map((s) => ({
    path: s.path,
    message: `a pooled tenant has no ${s.what} of its own (it shares its pool cell's); ${fix}`,
  }));
  if (guardrail.source === 'tenant') {
    problems.push({
      path: 'guardrail',
      message: `a pooled tenant's model calls apply its plan's guardrail (the pool cell may call models only with the plans' guardrails); ${fix}`,
    });
  }
  return problems;
};

/**
 * Each alarm's warning is below its critical, and the review SLA is reachable (below the review timeout, after
 * which a review is no longer pending).
 */
export const alarmThresholdsInOrder: ResolutionRule = (_file, { alarms, escalation }) => {
  const problems: FieldProblem[] = [];
  for (const [key, t] of Object.entries(alarms)) {
    if (t.warning >= t.critical) {
      problems.push({
        path: `alarms.${key}.warning`,
        message: `${t.warning} must be below alarms.${key}.critical (${t.critical})`,
      });
    }
  }
  if (alarms.reviewSlaMinutes.critical >= escalation.reviewTimeoutMinutes) {
    problems.push({
      path: 'alarms.reviewSlaMinutes.critical',
      message: `${alarms.reviewSlaMinutes.critical} must be below escalation.reviewTimeoutMinutes (${escalation.reviewTimeoutMinutes}): a review is no longer pending after its timeout`,
    });
  }
  return problems;
};

/**
 * A guardrail customization sets something, names each topic once, masks no credential (every guardrail blocks
 * those) and lists a PII type either as blocked or as masked.
 */
export const guardrailChangesAreSound: ResolutionRule = (file) => {
  const g = file.guardrail;
  if (g === undefined) return [];
  const problems: FieldProblem[] = [];
  if (Object.keys(g).length === 0) {
    problems.push({
      path: 'guardrail',
      message:
        "sets nothing; remove it to share the plan's guardrail, or set harmfulContentStrength, deniedTopics or pii",
    });
  }
  const seen = new Map<string, number>();
  (g.deniedTopics ?? []).forEach((t, i) => {
    const key = t.name.trim().toLowerCase();
    const j = seen.get(key);
    if (j !== undefined) {
      problems.push({
        path: `guardrail.deniedTopics.${i}.name`,
        message: `"${t.name}" is already guardrail.deniedTopics.${j}.name (names are compared ignoring case); name each topic once`,
      });
    }
    seen.set(key, i);
  });
  const block = new Set(g.pii?.block ?? []);
  (g.pii?.anonymize ?? []).forEach((type, i) => {
    if (ALWAYS_BLOCKED_PII.includes(type)) {
      problems.push({
        path: `guardrail.pii.anonymize.${i}`,
        message: `${type} is a credential: every guardrail blocks it in prompts and answers (${ALWAYS_BLOCKED_PII.join(', ')}); remove it`,
      });
    } else if (block.has(type)) {
      problems.push({
        path: `guardrail.pii.anonymize.${i}`,
        message: `${type} is also in guardrail.pii.block; a type is either blocked or masked, list it once`,
      });
    }
  });
  return problems;
};

/** The system preamble fits the function's environment in UTF-8. */
export const preambleFitsEnvironment: ResolutionRule = (file) => {
  if (file.systemPreamble === undefined) return [];
  const bytes = Buffer.byteLength(file.systemPreamble, 'utf8');
  if (bytes <= PREAMBLE_MAX_CHARS) return [];
  return [
    {
      path: 'systemPreamble',
      message: `${bytes} bytes in UTF-8; at most ${PREAMBLE_MAX_CHARS} (it travels in the function's environment, which Lambda limits to 4 KB)`,
    },
  ];
};

/** Every rule across fields, in the order their problems are reported. */
export const RESOLUTION_RULES: readonly ResolutionRule[] = [
  defaultTierIsAllowed,
  overriddenTiersAreAllowed,
  routingThresholdsInOrder,
  webhookIsAnOrigin,
  heartbeatBeforeTimeout,
  reviewBelowCascade,
  reviewHasReviewers,
  recordsOutliveReviews,
  defaultTokensWithinLimit,
  burstAtLeastRate,
  pooledRateWithinCeiling,
  pooledTenantHasNoStackSettings,
  alarmThresholdsInOrder,
  guardrailChangesAreSound,
  preambleFitsEnvironment,
];
