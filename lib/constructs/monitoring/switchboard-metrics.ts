/**
 * The metrics the monitoring constructs read, built once from the constants the handlers emit with
 * (`lambda/shared/metrics.ts`): namespace, metric names and dimension names are never written here.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS, type MetricKey } from '../../../lambda/shared/metrics';
import { SEARCH_LIMITS } from '../../capacity/quotas';

/** Namespace of the Amazon Bedrock runtime metrics (per model, account-wide: not per tenant). */
const BEDROCK_NAMESPACE = 'AWS/Bedrock';
/** Dimension of the Bedrock runtime metrics: the model or inference profile id the caller passed. */
const BEDROCK_MODEL_DIMENSION = 'ModelId';

/** Options of a metric method. */
export interface SwitchboardMetricOptions {
  /** @default - the metric's natural statistic (Sum for counts) */
  readonly statistic?: string;
  /** @default Duration.minutes(5) */
  readonly period?: Duration;
  /** @default - the metric name */
  readonly label?: string;
  /**
   * Restrict to one model tier (the handlers emit per-request metrics under (TenantId) and (TenantId, Tier)).
   * @default - the tenant total
   */
  readonly tier?: string;
}

/**
 * One tenant's Switchboard metrics: each method returns the metric exactly as the handlers emit it (namespace,
 * name, `TenantId` and optionally `Tier` dimension). Dashboards and alarms use these, never inline copies.
 */
export class SwitchboardMetrics {
  constructor(readonly tenantId: string) {}

  /** Any Switchboard metric by its key in `METRICS`. */
  metric(key: MetricKey, options: SwitchboardMetricOptions = {}): cloudwatch.Metric {
    const m = METRICS[key];
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: m.name,
      dimensionsMap: {
        [METRIC_DIMENSIONS.tenant]: this.tenantId,
        ...(options.tier ? { [METRIC_DIMENSIONS.tier]: options.tier } : {}),
      },
      statistic: options.statistic ?? 'Sum',
      period: options.period ?? Duration.minutes(5),
      label: options.label ?? (options.tier ? `${m.name} ${options.tier}` : m.name),
    });
  }

  /** Requests answered or failed after acceptance. */
  metricRequests(options?: SwitchboardMetricOptions): cloudwatch.Metric {
    return this.metric('requests', options);
  }
  /** Cost in USD (Sum: spend; Average: cost per request). */
  metricCostUsd(options?: SwitchboardMetricOptions): cloudwatch.Metric {
    return this.metric('costUsd', options);
  }
  /** Fallback model calls (the tier's model failed). */
  metricFallbacks(options?: SwitchboardMetricOptions): cloudwatch.Metric {
    return this.metric('fallbacks', options);
  }
  /** Escalations (cascade to a stronger tier). */
  metricEscalations(options?: SwitchboardMetricOptions): cloudwatch.Metric {
    return this.metric('escalations', options);
  }
  /** Confidence of the final answer; use a percentile statistic (`p10`, `p50`, `p90`). */
  metricConfidence(options?: SwitchboardMetricOptions): cloudwatch.Metric {
    return this.metric('confidence', { statistic: 'p50', ...options });
  }
  /** Month spend / monthly budget after each request (Maximum). */
  metricBudgetUsedShare(options?: SwitchboardMetricOptions): cloudwatch.Metric {
    return this.metric('budgetUsedShare', { statistic: 'Maximum', ...options });
  }
  /** Reviews waiting for a decision (Maximum). */
  metricPendingReviews(options?: SwitchboardMetricOptions): cloudwatch.Metric {
    return this.metric('pendingReviews', { statistic: 'Maximum', ...options });
  }
  /** Age in seconds of the oldest pending review (Maximum). */
  metricOldestPendingReviewAge(options?: SwitchboardMetricOptions): cloudwatch.Metric {
    return this.metric('oldestPendingReviewAge', { statistic: 'Maximum', ...options });
  }

  /** A per-100-requests rate of a count metric: `100 * count / Requests` (0 when there were no requests). */
  ratePer100Requests(key: MetricKey, label: string, period = Duration.minutes(5)): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      // Ids per metric key, so several rates can share one graph.
      expression: `IF(requests > 0, 100 * ${key} / requests, 0)`,
      usingMetrics: { [key]: this.metric(key, { period }), requests: this.metricRequests({ period }) },
      label,
      period,
    });
  }

  /** Bedrock throttles of one model (account-wide, shared with every tenant using the model). */
  metricBedrockInvocationThrottles(modelId: string, options: SwitchboardMetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: BEDROCK_NAMESPACE,
      metricName: 'InvocationThrottles',
      dimensionsMap: { [BEDROCK_MODEL_DIMENSION]: modelId },
      statistic: options.statistic ?? 'Sum',
      period: options.period ?? Duration.minutes(5),
      label: options.label ?? modelId,
    });
  }
}

/**
 * The dimension naming the pool cell (`pool-1`) on the pooled function's metrics. The pooled function emits every
 * per-request metric under the dimension sets `[Cell, TenantId]` (per tenant, searched one cell at a time) and
 * `[Cell]` (cell totals), never under `[TenantId]` alone, so the silo SEARCH over `{Switchboard,TenantId}` keeps to
 * silo tenants and no SEARCH has to span the whole pool.
 * Defined once in lambda/shared/metrics.ts (`METRIC_DIMENSIONS.cell`), which the pooled function's telemetry uses.
 */
export const POOL_CELL_DIMENSION = METRIC_DIMENSIONS.cell;

/**
 * A SEARCH over every silo tenant's series of one Switchboard metric, tenant totals only (the `{Namespace,TenantId}`
 * schema matches exactly the `[TenantId]` dimension set: neither the per-tier split nor the pooled tenants'
 * `[Cell, TenantId]`), so a new tenant appears without a deploy.
 */
export function fleetSearch(key: MetricKey, statistic: string, period: Duration): string {
  return search(
    `{${METRIC_NAMESPACE},${METRIC_DIMENSIONS.tenant}} MetricName="${METRICS[key].name}"`,
    statistic,
    period,
  );
}

/**
 * A SEARCH over the tenants of one pool cell (`{Namespace,Cell,TenantId} Cell="<id>"`): one series per tenant of
 * the cell, complete while the cell holds at most 500 tenants (the capacity model's tenants per cell).
 */
export function cellTenantsSearch(cellId: string, key: MetricKey, statistic: string, period: Duration): string {
  return search(
    `{${METRIC_NAMESPACE},${POOL_CELL_DIMENSION},${METRIC_DIMENSIONS.tenant}} ${POOL_CELL_DIMENSION}="${cellId}" MetricName="${METRICS[key].name}"`,
    statistic,
    period,
  );
}

/** A SEARCH over the cell totals (`{Namespace,Cell}`): one series per pool cell, the sum of its tenants. */
export function cellTotalsSearch(key: MetricKey, statistic: string, period: Duration): string {
  return search(`{${METRIC_NAMESPACE},${POOL_CELL_DIMENSION}} MetricName="${METRICS[key].name}"`, statistic, period);
}

function search(query: string, statistic: string, period: Duration): string {
  // CloudWatch refuses a SEARCH query above 1,024 characters (lib/capacity/quotas.ts, SEARCH_LIMITS).
  if (query.length > SEARCH_LIMITS.queryChars) {
    throw new Error(
      `SEARCH query of ${query.length} characters is above CloudWatch's ${SEARCH_LIMITS.queryChars}: ${query}`,
    );
  }
  return `SEARCH('${query}', '${statistic}', ${period.toSeconds()})`;
}
