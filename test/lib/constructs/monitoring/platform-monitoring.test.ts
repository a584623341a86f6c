import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../../../../lambda/shared/metrics';
import { PlatformMonitoring } from '../../../../lib/constructs/monitoring/platform-monitoring';
import { PLATFORM_STACK_NAME } from '../../../../lib/switchboard';
import { synthSwitchboard } from '../../../support/synth';
import { flatten, onlyResource, props, type TemplateLike, testApp } from '../../template-utils';
import { dashboardBody } from './dashboard-metrics';

const expressionsOf = (t: TemplateLike) =>
  dashboardBody(t)
    .widgets.flatMap((w) =>
      (w.properties.metrics ?? []).flatMap((row) =>
        row.filter((x): x is { expression: string } => typeof (x as { expression?: unknown })?.expression === 'string'),
      ),
    )
    .map((e) => e.expression);

describe('PlatformMonitoring', () => {
  const synth = synthSwitchboard({ compliance: false });
  const platform = synth.template(PLATFORM_STACK_NAME) as unknown as TemplateLike;

  it('finds every tenant by SEARCH over the TenantId dimension with the metric names the handlers emit', () => {
    const exprs = expressionsOf(platform);
    const searches = exprs.flatMap((e) => [...e.matchAll(/SEARCH\('\{([^}]+)\} MetricName="([^"]+)"/g)]);
    expect(searches.length).toBeGreaterThanOrEqual(8);
    const names = new Set<string>(Object.values(METRICS).map((m) => m.name));
    for (const [, schema, name] of searches) {
      if (schema!.startsWith('AWS/ApiGateway')) continue;
      expect(schema).toBe(`${METRIC_NAMESPACE},${METRIC_DIMENSIONS.tenant}`);
      expect(names.has(name!)).toBe(true);
    }
    for (const m of ['costUsd', 'requests', 'escalations', 'budgetUsedShare'] as const) {
      expect(searches.map(([, , n]) => n)).toContain(METRICS[m].name);
    }
    // No tenant id is written into the fleet dashboard: new tenants need no change.
    for (const id of ['acme', 'globex', 'initech']) expect(JSON.stringify(dashboardBody(platform))).not.toContain(id);
  });

  it('shows top tenants by cost, cost per request, 5xx share and escalation rate by tenant', () => {
    const exprs = expressionsOf(platform);
    expect(exprs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SORT\(SEARCH\(.*MetricName="CostUsd"', 'Sum', 86400\), SUM, DESC, 10\)$/),
        expect.stringMatching(/^SORT\(SEARCH\(.*MetricName="CostUsd"', 'Average', 3600\), AVG, DESC, 10\)$/),
        expect.stringMatching(/^SORT\(100 \* SEARCH\('\{AWS\/ApiGateway,ApiName,Stage\} MetricName="5XXError"/),
        expect.stringMatching(/^SORT\(100 \* SEARCH\(.*MetricName="Escalations"', 'Average', 3600\)/),
      ]),
    );
  });

  it('draws the sum of the tenant budgets as a daily pace on the spend graph', () => {
    const sum = synth.built.configs.reduce((s, t) => s + t.monthlyBudgetUsd, 0);
    const spend = dashboardBody(platform).widgets.find((w) => w.properties.title?.startsWith('Total spend per day'));
    expect(spend?.properties.annotations?.horizontal?.[0]?.value).toBeCloseTo(sum / 30.44, 6);
    expect(flatten(props(onlyResource(platform, 'AWS::CloudWatch::Dashboard')[1]).DashboardName)).toBe(
      'Switchboard-Fleet',
    );
  });

  it('leaves the budget line out of a single-tenant synth, which reads one tenant file only', () => {
    const one = synthSwitchboard({ only: 'acme', compliance: false }).template(
      PLATFORM_STACK_NAME,
    ) as unknown as TemplateLike;
    const spend = dashboardBody(one).widgets.find((w) => w.properties.title?.startsWith('Total spend per day'));
    expect(spend?.properties.annotations?.horizontal ?? []).toEqual([]);
  });

  it('matches the dashboard body snapshot', () => {
    expect(dashboardBody(platform)).toMatchSnapshot();
  });

  it('fails when topN or the fleet budget is out of range', () => {
    const stack = new Stack(testApp(), 'P');
    expect(() => new PlatformMonitoring(stack, 'M', { topN: 0 })).toThrow(/topN: 0 must be an integer from 1 to 100/);
    expect(() => new PlatformMonitoring(stack, 'N', { fleetMonthlyBudgetUsd: -1 })).toThrow(
      /fleetMonthlyBudgetUsd: -1/,
    );
    new PlatformMonitoring(stack, 'Ok');
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
