import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { fleetSearch } from './switchboard-metrics';

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
 */
export class PlatformMonitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps = {}) {
    super(scope, id);
    const top = props.topN ?? 10;
    if (!Number.isInteger(top) || top < 1 || top > 100) {
      throw new Error(`PlatformMonitoring ${this.node.path}: topN: ${top} must be an integer from 1 to 100`);
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
            markdown: `# Switchboard fleet\nEvery tenant, found by SEARCH over the \`TenantId\` dimension: new tenants appear without a deploy. Sum of monthly budgets: **${budget === undefined ? 'not known in a single-tenant synth' : `${budget} USD`}**.`,
            width: 24,
            height: 2,
          }),
        ],
        [
          new cloudwatch.SingleValueWidget({
            title: 'Fleet spend over the selected range (USD)',
            metrics: [expr(`SUM(${fleetSearch('costUsd', 'Sum', day)})`, 'Spend (USD)', day)],
            setPeriodToTimeRange: true,
            width: 12,
            height: 4,
          }),
          new cloudwatch.SingleValueWidget({
            title: 'Requests over the selected range',
            metrics: [expr(`SUM(${fleetSearch('requests', 'Sum', day)})`, 'Requests', day)],
            setPeriodToTimeRange: true,
            width: 12,
            height: 4,
          }),
        ],
        [
          graph(
            `Top ${top} tenants by cost (USD per day)`,
            [expr(`SORT(${fleetSearch('costUsd', 'Sum', day)}, SUM, DESC, ${top})`, '', day)],
            { stacked: true },
          ),
          graph(
            'Total spend per day vs the sum of budgets (USD)',
            [expr(`SUM(${fleetSearch('costUsd', 'Sum', day)})`, 'Fleet spend per day', day)],
            { leftAnnotations: dailyPace, leftYAxis: { min: 0 } },
          ),
        ],
        [
          graph(`Cost per request by tenant (USD, top ${top})`, [
            expr(`SORT(${fleetSearch('costUsd', 'Average', hour)}, AVG, DESC, ${top})`, '', hour),
          ]),
          graph(`5xx share of API requests by tenant (%, top ${top})`, [
            expr(
              `SORT(100 * SEARCH('{AWS/ApiGateway,ApiName,Stage} MetricName="5XXError" ${API_NAME_TOKEN}', 'Average', ${hour.toSeconds()}), MAX, DESC, ${top})`,
              '',
              hour,
            ),
          ]),
        ],
        [
          graph(`Escalations per 100 requests by tenant (top ${top})`, [
            expr(`SORT(100 * ${fleetSearch('escalations', 'Average', hour)}, AVG, DESC, ${top})`, '', hour),
          ]),
          graph(`Model errors by tenant (top ${top})`, [
            expr(`SORT(${fleetSearch('modelErrors', 'Sum', hour)}, SUM, DESC, ${top})`, '', hour),
          ]),
        ],
        [
          graph(
            `Share of monthly budget used by tenant (top ${top})`,
            [expr(`SORT(${fleetSearch('budgetUsedShare', 'Maximum', hour)}, MAX, DESC, ${top})`, '', hour)],
            { leftAnnotations: [{ value: 1, label: 'Budget' }] },
          ),
          graph(`Fallbacks per 100 requests by tenant (top ${top})`, [
            expr(`SORT(100 * ${fleetSearch('fallbacks', 'Average', hour)}, AVG, DESC, ${top})`, '', hour),
          ]),
        ],
      ],
    });
  }
}
