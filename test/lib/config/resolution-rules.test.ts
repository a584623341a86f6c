import { PLANS } from '../../../lambda/shared/tenant-vocabulary';
import * as rules from '../../../lib/config/resolution-rules';
import { RESOLUTION_RULES, type ResolutionRule } from '../../../lib/config/resolution-rules';
import { applyPlanDefaults, resolveTenant } from '../../../lib/config/tenant-config';
import { type TenantFile, TenantFileSchema } from '../../../lib/config/tenant-schema';

const REVIEWER = { reviewerEmails: ['r@example.com'] };

/** A tenant file as the schema leaves it (defaults not applied). */
function file(fields: Record<string, unknown>): TenantFile {
  return TenantFileSchema.parse({ id: 'acme', plan: 'standard', escalation: REVIEWER, ...fields });
}

/** What one rule finds in a file with its plan defaults applied. */
function found(rule: ResolutionRule, fields: Record<string, unknown>): string[] {
  const f = file(fields);
  return rule(f, applyPlanDefaults(f)).map((p) => p.path);
}

describe('resolution rules', () => {
  it('lists every rule once', () => {
    const exported = Object.values(rules).filter((v) => typeof v === 'function');
    expect(new Set(RESOLUTION_RULES).size).toBe(RESOLUTION_RULES.length);
    expect([...RESOLUTION_RULES].sort()).toEqual([...exported].sort());
  });

  it('let a silo tenant have every setting a pooled tenant may not', () => {
    const f = file({
      plan: 'basic',
      isolation: 'silo',
      lambda: { memoryMb: 1024 },
      opsEmails: ['ops@example.com'],
      guardrail: { harmfulContentStrength: 'LOW' },
    });
    expect(rules.pooledTenantHasNoStackSettings(f, applyPlanDefaults(f))).toEqual([]);
  });

  it.each(PLANS)('find nothing in a %s tenant that only names its plan and a reviewer', (plan) => {
    const f = file({ plan });
    expect(RESOLUTION_RULES.flatMap((rule) => rule(f, applyPlanDefaults(f)))).toEqual([]);
    expect(resolveTenant(f).tenant).toEqual(applyPlanDefaults(f));
  });

  it.each<[string, ResolutionRule, Record<string, unknown>, string[]]>([
    [
      'defaultTierIsAllowed',
      rules.defaultTierIsAllowed,
      { plan: 'basic', models: { default: 'deep' } },
      ['models.default'],
    ],
    [
      'overriddenTiersAreAllowed',
      rules.overriddenTiersAreAllowed,
      { plan: 'basic', models: { overrides: { deep: 'us.amazon.nova-pro-v1:0' }, fallbacks: { deep: [] } } },
      ['models.overrides.deep', 'models.fallbacks.deep'],
    ],
    [
      'routingThresholdsInOrder',
      rules.routingThresholdsInOrder,
      { routing: { deepThreshold: 0.2, balancedThreshold: 0.3 } },
      ['routing.balancedThreshold'],
    ],
    [
      'webhookIsAnOrigin',
      rules.webhookIsAnOrigin,
      {
        escalation: { ...REVIEWER, webhookUrl: 'https://h.example.com/x', webhook: { origin: 'http://h.example.com' } },
      },
      ['escalation.webhookUrl', 'escalation.webhook.origin'],
    ],
    [
      'heartbeatBeforeTimeout',
      rules.heartbeatBeforeTimeout,
      { escalation: { ...REVIEWER, reviewTimeoutMinutes: 60, reviewHeartbeatMinutes: 60 } },
      ['escalation.reviewHeartbeatMinutes'],
    ],
    [
      'reviewBelowCascade',
      rules.reviewBelowCascade,
      { escalation: { ...REVIEWER, confidenceThreshold: 0.3, reviewThreshold: 0.5 } },
      ['escalation.reviewThreshold'],
    ],
    [
      'reviewHasReviewers',
      rules.reviewHasReviewers,
      { escalation: { reviewerEmails: [] } },
      ['escalation.reviewerEmails'],
    ],
    ['recordsOutliveReviews', rules.recordsOutliveReviews, { dataRetentionDays: 1 }, ['dataRetentionDays']],
    [
      'defaultTokensWithinLimit',
      rules.defaultTokensWithinLimit,
      { limits: { maxOutputTokens: 100, defaultMaxTokens: 200 } },
      ['limits.defaultMaxTokens'],
    ],
    [
      'burstAtLeastRate',
      rules.burstAtLeastRate,
      { throttle: { rateLimit: 10, burstLimit: 5 } },
      ['throttle.burstLimit'],
    ],
    [
      'pooledRateWithinCeiling',
      rules.pooledRateWithinCeiling,
      { isolation: 'pool', throttle: { rateLimit: 1_001, burstLimit: 2_000 } },
      ['throttle.rateLimit'],
    ],
    [
      'pooledTenantHasNoStackSettings',
      rules.pooledTenantHasNoStackSettings,
      {
        plan: 'basic',
        lambda: { memoryMb: 1024 },
        monitoring: { dashboard: true },
        opsEmails: ['ops@example.com'],
        tags: { team: 'x' },
        escalation: { ...REVIEWER, reviewerPrincipals: ['arn:aws:iam::123456789012:role/r'] },
        guardrail: { harmfulContentStrength: 'LOW' },
      },
      ['lambda', 'monitoring', 'opsEmails', 'tags', 'escalation.reviewerPrincipals', 'guardrail'],
    ],
    [
      'alarmThresholdsInOrder',
      rules.alarmThresholdsInOrder,
      { alarms: { lambdaErrors: { warning: 5, critical: 5 }, reviewSlaMinutes: { warning: 1, critical: 1440 } } },
      ['alarms.lambdaErrors.warning', 'alarms.reviewSlaMinutes.critical'],
    ],
    ['guardrailChangesAreSound', rules.guardrailChangesAreSound, { guardrail: {} }, ['guardrail']],
    ['preambleFitsEnvironment', rules.preambleFitsEnvironment, { systemPreamble: 'é'.repeat(600) }, ['systemPreamble']],
  ])('%s finds its problem, and only it', (_name, rule, fields, paths) => {
    expect(found(rule, fields)).toEqual(paths);
    const f = file(fields);
    expect(resolveTenant(f)).toEqual({ problems: expect.arrayContaining(rule(f, applyPlanDefaults(f))) });
    expect(resolveTenant(f).tenant).toBeUndefined();
  });
});
