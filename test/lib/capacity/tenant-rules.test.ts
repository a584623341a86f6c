import { App } from 'aws-cdk-lib';
import { DEFAULT_TIER_MODELS, getModel } from '../../../lambda/shared/catalog';
import { PLANS } from '../../../lambda/shared/tenant-vocabulary';
import { firstCallBudgetMs } from '../../../lambda/shared/timing';
import { INTEGRATION_TIMEOUT } from '../../../lib/capacity/quotas';
import { tenantDeploymentProblems, tokensWithin } from '../../../lib/capacity/tenant-rules';
import { TenantConfigError } from '../../../lib/config/load-tenants';
import { PlatformConfigError } from '../../../lib/config/platform-config';
import { resolveTenant, type TenantConfig } from '../../../lib/config/tenant-config';
import type { TenantFile } from '../../../lib/config/tenant-schema';
import { buildSwitchboard } from '../../../lib/switchboard';
import { repoPlatformConfig, tenantDir } from '../../support/synth';

const platform = repoPlatformConfig();
const tenant = (file: Omit<TenantFile, 'id'>): TenantConfig => {
  const r = resolveTenant({ id: 'demo', escalation: { reviewerEmails: ['r@example.com'] }, ...file } as TenantFile);
  if (!r.tenant) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r.tenant;
};
const problems = (t: TenantConfig, region = 'us-east-1', p = platform) =>
  tenantDeploymentProblems(t, region, p).map((x) => `${x.path}: ${x.message}`);

describe('tenant deployment rules', () => {
  it.each(PLANS)('accept the %s plan defaults in us-east-1 (the largest default answer fits a call)', (plan) => {
    expect(problems(tenant({ plan }))).toEqual([]);
  });

  it('refuse a region none of the tenant models can be called from, naming the regions that can', () => {
    const out = problems(tenant({ plan: 'basic' }), 'eu-west-1');
    expect(out).toContain(
      `models.overrides.fast: ${DEFAULT_TIER_MODELS.fast} cannot be called from eu-west-1 (its inference profile is callable from us-east-1, us-east-2, us-west-2); deploy to one of those regions or choose a model of the catalog that is`,
    );
    expect(out.some((l) => l.startsWith('models.fallbacks.fast:'))).toBe(true);
  });

  it('refuse a pooled tenant a rate above what one DynamoDB partition counts (a rule of the file, shared with the control plane), and let a silo tenant have it', () => {
    const fast = { plan: 'basic', throttle: { rateLimit: 1_001, burstLimit: 2_000 } } as const;
    const lines = (file: Omit<TenantFile, 'id'>) =>
      resolveTenant({
        id: 'demo',
        escalation: { reviewerEmails: ['r@example.com'] },
        ...file,
      } as TenantFile).problems.map((p) => `${p.path}: ${p.message}`);
    expect(lines({ ...fast, isolation: 'pool' })).toEqual([
      'throttle.rateLimit: 1001 requests/s is above the 1,000 a pooled tenant may have (its rate is counted on one DynamoDB partition, 1,000 writes a second); lower it, or give the tenant a stack of its own (isolation: silo)',
    ]);
    expect(lines({ ...fast, isolation: 'silo' })).toEqual([]);
    expect(lines({ ...fast, isolation: 'pool', throttle: { rateLimit: 1_000, burstLimit: 2_000 } })).toEqual([]);
  });

  it('refuse a throttle the WAF rate limit per client would block', () => {
    const out = problems(tenant({ plan: 'premium', throttle: { rateLimit: 400, burstLimit: 800 } }));
    expect(out).toEqual([
      'throttle.rateLimit: 400 requests/s allows 120,000 requests in 5 minutes, above the WAF rate limit of 100,000 (cdk.json context.switchboard.waf.requestsPer5MinPerClient); raise that limit or lower the rate',
    ]);
    const raised = { ...platform, waf: { ...platform.waf, requestsPer5MinPerClient: 120_000 } };
    expect(
      problems(tenant({ plan: 'premium', throttle: { rateLimit: 400, burstLimit: 800 } }), 'us-east-1', raised),
    ).toEqual([]);
    // One address at the tenant's full rate must fit the per-IP limit too.
    const wide = { ...platform, waf: { ...platform.waf, requestsPer5MinPerClient: 1_000_000 } };
    expect(
      problems(tenant({ plan: 'premium', throttle: { rateLimit: 1_100, burstLimit: 1_100 } }), 'us-east-1', wide),
    ).toEqual([
      'throttle.rateLimit: 1100 requests/s allows 330,000 requests in 5 minutes, above the WAF rate limit of 300,000 (cdk.json context.switchboard.waf.requestsPer5MinPerIp); raise that limit or lower the rate',
    ]);
  });

  it('refuse a function timeout above the integration timeout of the account, unless cdk.json raises it', () => {
    const t = tenant({ plan: 'standard', lambda: { timeoutSeconds: 120 } });
    expect(problems(t)[0]).toMatch(
      /^lambda\.timeoutSeconds: 120 s is above the API Gateway integration timeout of 29 s/,
    );
    const raised = { ...platform, quotas: { [INTEGRATION_TIMEOUT.id]: 120 } };
    expect(problems(t, 'us-east-1', raised)).toEqual([]);
  });

  it('refuse an answer limit the slowest tier model cannot produce in the time its call gets, and say what fits', () => {
    const t = tenant({ plan: 'premium', limits: { maxOutputTokens: 16_000, defaultMaxTokens: 2048 } });
    const deep = getModel(DEFAULT_TIER_MODELS.deep);
    const fits = tokensWithin(firstCallBudgetMs(29_000), deep.speed);
    expect(fits).toBe(750);
    const out = problems(t).filter((l) => l.includes(DEFAULT_TIER_MODELS.deep));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      new RegExp(
        `^limits\\.maxOutputTokens: 16000 tokens take about 321 s on ${DEFAULT_TIER_MODELS.deep.replace(/\./g, '\\.')} \\(the deep tier: 50 tokens/s, first token after 1000 ms; .*\\), but a model call gets 16\\.0 s of the 29 s timeout .*: at most ${fits} fit\\.`,
      ),
    );
    // With the integration timeout raised to 300 s (and the function given it), 16,000 tokens still do not fit
    // Sonnet's 50 tokens/s, while 10,000 do.
    const raised = { ...platform, quotas: { [INTEGRATION_TIMEOUT.id]: 300 } };
    const long = (maxOutputTokens: number) =>
      tenant({ plan: 'premium', lambda: { timeoutSeconds: 300 }, limits: { maxOutputTokens, defaultMaxTokens: 2048 } });
    expect(problems(long(16_000), 'us-east-1', raised)).toHaveLength(2);
    expect(problems(long(10_000), 'us-east-1', raised)).toEqual([]);
  });

  it('use the speeds measured in an account when cdk.json gives them', () => {
    const t = tenant({ plan: 'standard', limits: { maxOutputTokens: 1_500, defaultMaxTokens: 512 } });
    expect(problems(t).length).toBeGreaterThan(0);
    const measured = {
      ...platform,
      modelSpeeds: {
        [DEFAULT_TIER_MODELS.deep]: { outputTokensPerSecond: 120 },
        [DEFAULT_TIER_MODELS.balanced]: { outputTokensPerSecond: 140, firstTokenMs: 400 },
      },
    };
    expect(problems(t, 'us-east-1', measured)).toEqual([]);
  });
});

describe('deployment rules at synth', () => {
  it('report a tenant file breaking them with its file name, like the file rules', () => {
    const dir = tenantDir({
      fast: 'id: fast\nplan: premium\nthrottle: { rateLimit: 500, burstLimit: 500 }\nescalation:\n  reviewerEmails: [r@example.com]\n',
    });
    let error: unknown;
    try {
      buildSwitchboard(new App(), { platform, tenantsDir: dir, compliance: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantConfigError);
    expect((error as TenantConfigError).problems).toEqual([
      expect.stringMatching(/fast\.yaml: throttle\.rateLimit: 500 requests\/s allows 150,000 requests in 5 minutes/),
    ]);
  });

  it('fail a synth for a region the catalog has no inference profile for', () => {
    expect(() =>
      buildSwitchboard(new App(), {
        platform,
        tenantsDir: tenantDir({}),
        env: { region: 'eu-central-1' },
        compliance: false,
      }),
    ).toThrow(PlatformConfigError);
    expect(() =>
      buildSwitchboard(new App(), { platform, tenantsDir: tenantDir({}), env: { region: 'eu-central-1' } }),
    ).toThrow(
      /region: eu-central-1 has no inference profile in the model catalog .*; deploy to us-east-1, us-east-2, us-west-2/,
    );
  });
});
