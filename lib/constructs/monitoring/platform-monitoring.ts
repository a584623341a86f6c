import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { MetricKey } from '../../../lambda/shared/metrics';
import { poolCellId, TENANTS_PER_POOL_CELL } from '../../capacity/pool';
import { SEARCH_LIMITS } from '../../capacity/quotas';
import { cellTenantsSearch, cellTotalsSearch, fleetSearch, POOL_CELL_DIMENSION } from './switchboard-metrics';

/** Props of {@link PlatformMonitoring}. */
export interface PlatformMonitoringProps {
  /**
   * Sum of the tenants' monthly budgets in USD (known at synth from the tenant files).
   * @default - no budget line (e.g. a `-c tenant=<id>` synth, which reads one tenant file only)
   */
  readonly fleetMonthlyBudgetUsd?: number;
  /**
   * How many tenants the "top" widgets show.
   * @default 10
   */
  readonly topN?: number;
  /**
   * Dashboard name.
   * @default 'Switchboard-Fleet'
   */
  readonly dashboardName?: string;
  /**
   * Ids of the pool cells (`cdk.json` context.switchboard.poolCells), each searched on its own for its tenants.
   * @default ['pool-1'] (the capacity model's default of one cell)
   */
  readonly poolCells?: readonly string[];
}

/** Average days in a month: turns a monthly budget into a daily pace. */
const DAYS_PER_MONTH = 30.44;
/** Token that the tenant API names contain (`switchboard-<tenant>`), for the API Gateway search. */
const API_NAME_TOKEN = 'switchboard';

/**
 * The fleet dashboard (`Switchboard-Fleet`): every tenant, through metric math SEARCH expressions over the
 * `TenantId` dimension (and the tenant API names for API Gateway), so tenants added later appear without a
 * change here. Own code: cdk-monitoring-constructs has no cross-resource SEARCH widgets.
 *
 * Rates use the per-request emission of the handlers: the Average of `CostUsd` is the cost per request and the
 * Average of `Escalations` the escalations per request (each request emits one value of each), and the
 * Average of API Gateway `5XXError` is the 5xx share, so no division between two searches is needed.
 *
 * Silo and pooled tenants are searched apart, within CloudWatch's SEARCH limits (lib/capacity/quotas.ts,
 * SEARCH_LIMITS: at most 500 time series per SEARCH, dropped silently beyond; a query of at most 1,024 characters;
 * at most 100 SEARCH expressions and 500 time series per graph; only metrics with data in the past two weeks):
 * - silo tenants by `{Switchboard,TenantId}` (one series each; a region holds at most 460 silo tenants, bound by
 *   the control plane's template, so this SEARCH sees them all);
 * - pooled tenants one cell at a time by `{Switchboard,Cell,TenantId} Cell="pool-<n>"`: a cell holds at most
 *   TENANTS_PER_POOL_CELL (500) tenants, so each cell's SEARCH is complete, where one SEARCH over 10,000 pooled
 *   tenants would return an arbitrary 500 of them;
 * - pooled totals by `{Switchboard,Cell}` (one series per cell).
 * A pooled graph holds one SEARCH per cell (at most 100 cells a graph, more cells spread over more graphs) and
 * shows each cell's top `k` tenants, `k` chosen so that the graph stays within 500 series.
 */
export class PlatformMonitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps = {}) {
    super(scope, id);
    const top = props.topN ?? 10;
    if (!Number.isInteger(top) || top < 1 || top > 100) {
      throw new Error(`PlatformMonitoring ${this.node.path}: topN: ${top} must be an integer from 1 to 100`);
    }
    const cells = props.poolCells ?? [poolCellId(1)];
    const badCells = cells.filter((c, i) => !/^[a-z0-9-]{1,40}$/.test(c) || cells.indexOf(c) !== i);
    if (badCells.length) {
      throw new Error(
        `PlatformMonitoring ${this.node.path}: poolCells: ${badCells.map((c) => JSON.stringify(c)).join(', ')}: each must be a distinct cell id such as "pool-1"`,
      );
    }
    if (cells.length > SEARCH_LIMITS.seriesPerSearch) {
      throw new Error(
        `PlatformMonitoring ${this.node.path}: poolCells: ${cells.length} cells; the cell totals SEARCH returns at most ${SEARCH_LIMITS.seriesPerSearch} series`,
      );
    }
    if (props.fleetMonthlyBudgetUsd !== undefined && !(props.fleetMonthlyBudgetUsd >= 0)) {
      throw new Error(
        `PlatformMonitoring ${this.node.path}: fleetMonthlyBudgetUsd: ${props.fleetMonthlyBudgetUsd} must be at least 0`,
      );
    }
    const hour = Duration.hours(1);
    const day = Duration.days(1);
    const expr = (expression: string, label: string, period: Duration) =>
      new cloudwatch.MathExpression({ expression, label, period, usingMetrics: {} });
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 12, height: 7, ...extra });

    const budget = props.fleetMonthlyBudgetUsd;
    const dailyPace: cloudwatch.HorizontalAnnotation[] =
      budget === undefined
        ? []
        : [{ value: budget / DAYS_PER_MONTH, label: `Daily pace of the sum of budgets (${budget} USD / month)` }];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'Switchboard-Fleet',
      defaultInterval: Duration.days(7),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: `# Switchboard fleet\nEvery tenant, found by SEARCH over the \`TenantId\` dimension (silo tenants here, pooled tenants cell by cell below): new tenants appear without a deploy. Sum of monthly budgets: **${budget === undefined ? 'not known in a single-tenant synth' : `${budget} USD`}**.`,
            width: 24,
            height: 2,
          }),
        ],
        [
          new cloudwatch.SingleValueWidget({
            title: 'Fleet spend over the selected range (USD)',
            metrics: [
              expr(`SUM(${fleetSearch('costUsd', 'Sum', day)})`, 'Silo tenants', day),
              ...(cells.length ? [expr(`SUM(${cellTotalsSearch('costUsd', 'Sum', day)})`, 'Pooled tenants', day)] : []),
            ],
            setPeriodToTimeRange: true,
            width: 12,
            height: 4,
          }),
          new cloudwatch.SingleValueWidget({
            title: 'Requests over the selected range',
            metrics: [
              expr(`SUM(${fleetSearch('requests', 'Sum', day)})`, 'Silo tenants', day),
              ...(cells.length
                ? [expr(`SUM(${cellTotalsSearch('requests', 'Sum', day)})`, 'Pooled tenants', day)]
                : []),
            ],
            setPeriodToTimeRange: true,
            width: 12,
            height: 4,
          }),
        ],
        [
          graph(
            `Silo: top ${top} tenants by cost (USD per day)`,
            [expr(`SORT(${fleetSearch('costUsd', 'Sum', day)}, SUM, DESC, ${top})`, '', day)],
            { stacked: true },
          ),
          graph(
            'Total spend per day vs the sum of budgets (USD)',
            [
              expr(`SUM(${fleetSearch('costUsd', 'Sum', day)})`, 'Silo tenants per day', day),
              ...(cells.length
                ? [expr(`SUM(${cellTotalsSearch('costUsd', 'Sum', day)})`, 'Pooled tenants per day', day)]
                : []),
            ],
            { leftAnnotations: dailyPace, leftYAxis: { min: 0 }, stacked: true },
          ),
        ],
        [
          graph(`Silo: cost per request by tenant (USD, top ${top})`, [
            expr(`SORT(${fleetSearch('costUsd', 'Average', hour)}, AVG, DESC, ${top})`, '', hour),
          ]),
          graph(`5xx share of API requests by API (%, top ${top}; a pool cell is one API)`, [
            expr(
              `SORT(100 * SEARCH('{AWS/ApiGateway,ApiName,Stage} MetricName="5XXError" ${API_NAME_TOKEN}', 'Average', ${hour.toSeconds()}), MAX, DESC, ${top})`,
              '',
              hour,
            ),
          ]),
        ],
        [
          graph(`Silo: escalations per 100 requests by tenant (top ${top})`, [
            expr(`SORT(100 * ${fleetSearch('escalations', 'Average', hour)}, AVG, DESC, ${top})`, '', hour),
          ]),
          graph(`Silo: model errors by tenant (top ${top})`, [
            expr(`SORT(${fleetSearch('modelErrors', 'Sum', hour)}, SUM, DESC, ${top})`, '', hour),
          ]),
        ],
        [
          graph(
            `Silo: share of monthly budget used by tenant (top ${top})`,
            [expr(`SORT(${fleetSearch('budgetUsedShare', 'Maximum', hour)}, MAX, DESC, ${top})`, '', hour)],
            { leftAnnotations: [{ value: 1, label: 'Budget' }] },
          ),
          graph(`Silo: fallbacks per 100 requests by tenant (top ${top})`, [
            expr(`SORT(100 * ${fleetSearch('fallbacks', 'Average', hour)}, AVG, DESC, ${top})`, '', hour),
          ]),
        ],
        ...poolRows(cells, top, hour, day),
      ],
    });
  }
}

/** What a pooled graph shows per tenant: the metric, its statistic, the SORT order and a scale. */
interface PooledView {
  readonly title: string;
  readonly key: MetricKey;
  readonly statistic: 'Average' | 'Sum' | 'Maximum';
  readonly scale?: number;
  readonly period: 'hour' | 'day';
}

const POOLED_VIEWS: readonly PooledView[] = [
  { title: 'Cost per request by tenant (USD)', key: 'costUsd', statistic: 'Average', period: 'hour' },
  { title: 'Cost by tenant (USD per day)', key: 'costUsd', statistic: 'Sum', period: 'day' },
  { title: 'Model errors by tenant', key: 'modelErrors', statistic: 'Sum', period: 'hour' },
  {
    title: 'Refused requests by tenant (4xx, throttled, over budget)',
    key: 'rejected',
    statistic: 'Sum',
    period: 'hour',
  },
  {
    title: 'Escalations per 100 requests by tenant',
    key: 'escalations',
    statistic: 'Average',
    scale: 100,
    period: 'hour',
  },
  {
    title: 'Share of monthly budget used by tenant',
    key: 'budgetUsedShare',
    statistic: 'Maximum',
    period: 'hour',
  },
];

/**
 * The pooled tenants' rows: a heading, then for each view one graph per group of at most 100 cells (SEARCH
 * expressions per graph), each cell's SEARCH sorted to its top `k` tenants with `k × cells ≤ 500` (series per graph).
 */
function poolRows(cells: readonly string[], top: number, hour: Duration, day: Duration): cloudwatch.IWidget[][] {
  if (!cells.length) return [];
  const groups: string[][] = [];
  for (let i = 0; i < cells.length; i += SEARCH_LIMITS.searchesPerGraph) {
    groups.push(cells.slice(i, i + SEARCH_LIMITS.searchesPerGraph));
  }
  const widgets: cloudwatch.IWidget[] = [];
  for (const view of POOLED_VIEWS) {
    const period = view.period === 'hour' ? hour : day;
    const order = ({ Sum: 'SUM', Average: 'AVG', Maximum: 'MAX' } as const)[view.statistic];
    for (const [g, group] of groups.entries()) {
      const k = Math.max(1, Math.min(top, Math.floor(SEARCH_LIMITS.seriesPerGraph / group.length)));
      const range =
        groups.length > 1 ? `, cells ${group[0]}…${group[group.length - 1]} (${g + 1}/${groups.length})` : '';
      widgets.push(
        new cloudwatch.GraphWidget({
          title: `Pooled: ${view.title}, top ${k} per cell${range}`,
          left: group.map(
            (cell) =>
              new cloudwatch.MathExpression({
                expression: `SORT(${view.scale ? `${view.scale} * ` : ''}${cellTenantsSearch(cell, view.key, view.statistic, period)}, ${order}, DESC, ${k})`,
                // Each line reads "<cell> <tenant>" (the search's own label is the tenant id).
                label: `${cell}`,
                period,
                usingMetrics: {},
              }),
          ),
          width: 12,
          height: 7,
        }),
      );
    }
  }
  const rows: cloudwatch.IWidget[][] = [
    [
      new cloudwatch.TextWidget({
        markdown: `## Pooled tenants (${cells.length} cell${cells.length === 1 ? '' : 's'}: ${cells.join(', ')})\nEach cell is searched on its own over the \`${POOL_CELL_DIMENSION}\` and \`TenantId\` dimensions: a cell holds at most ${TENANTS_PER_POOL_CELL} tenants, so every tenant of it is in its search (one SEARCH returns at most ${SEARCH_LIMITS.seriesPerSearch} series). Tenants onboarded at run time appear with their first request.`,
        width: 24,
        height: 2,
      }),
    ],
  ];
  for (let i = 0; i < widgets.length; i += 2) rows.push(widgets.slice(i, i + 2));
  return rows;
}
