import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../../../../lambda/shared/metrics';
import { TENANTS_PER_POOL_CELL } from '../../../../lib/capacity/pool';
import { SEARCH_LIMITS } from '../../../../lib/capacity/quotas';
import { PlatformMonitoring } from '../../../../lib/constructs/monitoring/platform-monitoring';
import { POOL_CELL_DIMENSION } from '../../../../lib/constructs/monitoring/switchboard-metrics';
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

/** A dashboard of its own, in a stack of its own. */
function dashboardOf(props: ConstructorParameters<typeof PlatformMonitoring>[2]): TemplateLike {
  const stack = new Stack(testApp(), 'Fleet');
  new PlatformMonitoring(stack, 'Monitoring', props);
  return Template.fromStack(stack).toJSON() as TemplateLike;
}

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
      // Silo tenants by TenantId; the pool's cell totals by Cell (its tenants are searched cell by cell, below).
      expect([
        `${METRIC_NAMESPACE},${METRIC_DIMENSIONS.tenant}`,
        `${METRIC_NAMESPACE},${POOL_CELL_DIMENSION}`,
      ]).toContain(schema);
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

  it('finds the pooled tenants of every cell by a SEARCH of that cell over the Cell and TenantId dimensions', () => {
    const t = dashboardOf({ poolCells: ['pool-1', 'pool-2'] });
    const cellSearches = expressionsOf(t).flatMap((e) => [
      ...e.matchAll(/SEARCH\('\{([^}]+)\} (\w+)="([^"]+)" MetricName="([^"]+)"', '(\w+)', (\d+)\)/g),
    ]);
    const schema = `${METRIC_NAMESPACE},${POOL_CELL_DIMENSION},${METRIC_DIMENSIONS.tenant}`;
    for (const [, s, dimension] of cellSearches) expect([s, dimension]).toEqual([schema, POOL_CELL_DIMENSION]);
    // Cost per request, errors, refusals and escalations by tenant, for each cell.
    for (const cell of ['pool-1', 'pool-2']) {
      const names = cellSearches.filter(([, , , c]) => c === cell).map(([, , , , n, stat]) => `${n}/${stat}`);
      expect(names).toEqual(
        expect.arrayContaining([
          `${METRICS.costUsd.name}/Average`,
          `${METRICS.costUsd.name}/Sum`,
          `${METRICS.modelErrors.name}/Sum`,
          `${METRICS.rejected.name}/Sum`,
          `${METRICS.escalations.name}/Average`,
        ]),
      );
    }
    // The cell totals: one series per cell, beside the silo tenants' sum.
    expect(expressionsOf(t)).toContain(
      `SUM(SEARCH('{${METRIC_NAMESPACE},${POOL_CELL_DIMENSION}} MetricName="${METRICS.costUsd.name}"', 'Sum', 86400))`,
    );
    // The repository's dashboard searches the default cell.
    expect(expressionsOf(platform).join('\n')).toContain(`${POOL_CELL_DIMENSION}="pool-1"`);
  });

  it("keeps every pooled graph within CloudWatch's SEARCH limits, however many cells there are", () => {
    const cells = Array.from({ length: 250 }, (_, i) => `pool-${i + 1}`);
    const body = dashboardBody(dashboardOf({ poolCells: cells }));
    const pooled = body.widgets.filter((w) => w.properties.title?.startsWith('Pooled:'));
    const perView = new Map<string, Set<string>>();
    for (const w of pooled) {
      const exprs = (w.properties.metrics ?? []).flatMap((row) =>
        row.filter((x): x is { expression: string } => typeof (x as { expression?: unknown })?.expression === 'string'),
      );
      expect(exprs.length).toBeLessThanOrEqual(SEARCH_LIMITS.searchesPerGraph);
      let series = 0;
      for (const { expression } of exprs) {
        const m = /SEARCH\('(.+?)', '\w+', \d+\), \w+, DESC, (\d+)\)$/.exec(expression);
        expect(m).not.toBeNull();
        const [, query, k] = m!;
        const cell = new RegExp(`${POOL_CELL_DIMENSION}="([^"]+)"`).exec(query!)?.[1];
        expect(query!.length).toBeLessThanOrEqual(SEARCH_LIMITS.queryChars);
        series += Number(k);
        const view = w.properties.title!.replace(/, top \d+ per cell.*$/, '');
        perView.set(view, (perView.get(view) ?? new Set()).add(cell!));
      }
      expect(series).toBeLessThanOrEqual(SEARCH_LIMITS.seriesPerGraph);
    }
    // Every view covers every cell (in 3 graphs of at most 100 cells).
    expect(perView.size).toBeGreaterThanOrEqual(5);
    for (const covered of perView.values()) expect(covered.size).toBe(cells.length);
    // A cell holds no more tenants than one SEARCH returns: each cell's search is complete.
    expect(TENANTS_PER_POOL_CELL).toBeLessThanOrEqual(SEARCH_LIMITS.seriesPerSearch);
  });

  it('fails when a pool cell id is malformed or repeated, or there are more cells than one SEARCH returns', () => {
    const stack = new Stack(testApp(), 'C');
    expect(() => new PlatformMonitoring(stack, 'A', { poolCells: ['pool-1', 'pool-1'] })).toThrow(
      /poolCells: "pool-1": each must be a distinct cell id/,
    );
    expect(() => new PlatformMonitoring(stack, 'B', { poolCells: ["pool'1"] })).toThrow(/poolCells: "pool'1"/);
    expect(
      () => new PlatformMonitoring(stack, 'C', { poolCells: Array.from({ length: 501 }, (_, i) => `pool-${i + 1}`) }),
    ).toThrow(/501 cells; the cell totals SEARCH returns at most 500 series/);
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
