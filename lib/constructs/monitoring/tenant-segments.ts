/**
 * Switchboard's own monitoring segments, on cdk-monitoring-constructs' extension point (a `Monitoring` added to
 * the facade with `addSegment`): the metrics the handlers emit (tiers, cost, tokens, budget, cascade,
 * fallbacks, confidence, refusals, reviews) and Bedrock throttles, which the library's segments do not cover.
 * Each segment's alarms come from the facade's alarm factory (names, descriptions, actions, annotations), and
 * its widgets, three graphs a row, go on the facade's dashboard.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  type AlarmWithAnnotation,
  type BaseMonitoringProps,
  FullWidth,
  Monitoring,
  type MonitoringScope,
  ThirdWidth,
} from 'cdk-monitoring-constructs';
import { METRICS } from '../../../lambda/shared/metrics';
import type { AlarmSet, SeverityThresholds } from '../../config/plan-defaults';
import type { TenantConfig } from '../../config/tenant-config';
import { addSeverityAlarms, HEALTH_TAG, severitiesOf } from './severity';
import type { SwitchboardMetrics } from './switchboard-metrics';

/** Alarm thresholds of a tenant by severity (the resolved `alarms` block of the tenant file). */
export type TenantAlarmThresholds = TenantConfig['alarms'];

/** Height of every graph of the Switchboard segments (three graphs a row, {@link ThirdWidth} each). */
const GRAPH_HEIGHT = 6;

/**
 * Model calls refused with AccessDeniedException per 5 minutes: any is a platform misconfiguration (warning), many
 * mean a tier relies on its fallbacks (critical).
 */
const MODEL_ACCESS_DENIED_ALARM: SeverityThresholds = { warning: 1, critical: 10 };

/**
 * Answers refused by the review caps per 5 minutes: one means the queue reached a cap (warning), many a flood
 * that keeps the reviewers' queue full (critical).
 */
const REVIEWS_REFUSED_ALARM: SeverityThresholds = { warning: 1, critical: 10 };

function graph(
  title: string,
  left: cloudwatch.IMetric[],
  extra: Partial<cloudwatch.GraphWidgetProps> = {},
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width: ThirdWidth, height: GRAPH_HEIGHT, ...extra });
}

const annotationsOf = (alarms: readonly AlarmWithAnnotation[]) => alarms.map((a) => a.annotation);

/** Props of {@link TenantUsageMonitoring}. */
export interface TenantUsageMonitoringProps extends BaseMonitoringProps {
  /** The tenant's Switchboard metrics. */
  readonly metrics: SwitchboardMetrics;
  /** Model tiers the tenant may use (one series per tier). */
  readonly tiers: readonly string[];
  readonly thresholds: TenantAlarmThresholds;
  readonly alarmSet: AlarmSet;
  /** Monthly budget in USD (named in the budget alarm's description). */
  readonly monthlyBudgetUsd: number;
  /** The API's `5XXError` metric (ApiName and Stage), as the API Gateway segment reads it. */
  readonly api5xxMetric: cloudwatch.Metric;
}

/**
 * Requests, tiers, cost, budget, cascade and fallbacks of one tenant, with the 5xx share, fallback rate, model
 * access denied and budget alarms. Three rows of three graphs.
 */
export class TenantUsageMonitoring extends Monitoring {
  private readonly rows: cloudwatch.Row[];

  constructor(scope: MonitoringScope, props: TenantUsageMonitoringProps) {
    super(scope, props);
    const { metrics: m, thresholds: t, alarmSet } = props;
    const tenant = m.tenantId;
    const factory = this.createAlarmFactory('Tenant');
    const perTier = (f: (tier: string) => cloudwatch.IMetric) => props.tiers.map(f);
    const health = [HEALTH_TAG];

    const fiveXx = new cloudwatch.MathExpression({
      expression: '100 * e',
      // Its Average is the 5xx share (API Gateway emits 0 or 1 per request).
      usingMetrics: { e: props.api5xxMetric.with({ statistic: 'Average' }) },
      label: '5xx share of requests (%)',
      period: Duration.minutes(5),
    });
    const errorRate = addSeverityAlarms(factory, fiveXx, t.errorRate5xxPercent, severitiesOf(alarmSet, true), {
      alarmNameSuffix: '5xxRate',
      alarmDescription: `5xx answers of the ${tenant} API are at or above the threshold share of requests (2 of 3 five-minute periods).`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      customTags: health,
    });
    const fallbackRate = m.ratePer100Requests('fallbacks', 'Fallback calls per 100 requests');
    // Fallbacks keep answers coming; the essential set relies on the 5xx share once they stop sufficing.
    const fallback = addSeverityAlarms(factory, fallbackRate, t.fallbackRatePercent, severitiesOf(alarmSet, false), {
      alarmNameSuffix: 'FallbackRate',
      alarmDescription: `Fallback model calls of ${tenant} have been at or above the threshold per 100 requests for 15 minutes: a tier's model is throttled or failing.`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      customTags: health,
    });
    const accessDenied = m.metric('modelAccessDenied', { label: METRICS.modelAccessDenied.name });
    const denied = addSeverityAlarms(factory, accessDenied, MODEL_ACCESS_DENIED_ALARM, severitiesOf(alarmSet, true), {
      alarmNameSuffix: 'ModelAccessDenied',
      alarmDescription: `Bedrock refused calls of ${tenant} with AccessDeniedException: the function's IAM policy does not name a region an inference profile routed to, or a model's access (subscription, use-case form) is missing. Fallbacks answered meanwhile.`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      customTags: health,
    });
    const budgetShare = m.metricBudgetUsedShare({ label: 'Share of monthly budget used' });
    const budget = addSeverityAlarms(factory, budgetShare, t.budgetShare, severitiesOf(alarmSet, true), {
      alarmNameSuffix: 'Budget',
      alarmDescription: `${tenant} has spent at least the threshold share of its monthly budget (${props.monthlyBudgetUsd} USD).`,
      // No requests means no new spend: keep the last state until a new value (or a new month) arrives.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    for (const a of [...errorRate, ...fallback, ...denied, ...budget]) this.addAlarm(a);

    this.rows = [
      new cloudwatch.Row(
        graph(
          'Requests by tier',
          perTier((tier) => m.metricRequests({ tier, label: tier })),
          { stacked: true },
        ),
        graph(
          'Share of requests per tier (%)',
          props.tiers.map(
            (tier, i) =>
              new cloudwatch.MathExpression({
                expression: `IF(total > 0, 100 * t${i} / total, 0)`,
                usingMetrics: { [`t${i}`]: m.metricRequests({ tier }), total: m.metricRequests() },
                label: tier,
              }),
          ),
          { leftYAxis: { min: 0, max: 100 } },
        ),
        graph('5xx share of API requests (%)', [fiveXx], {
          leftAnnotations: annotationsOf(errorRate),
          leftYAxis: { min: 0 },
        }),
      ),
      new cloudwatch.Row(
        graph(
          'Cost (USD) by tier',
          perTier((tier) => m.metricCostUsd({ tier, label: tier })),
          { stacked: true },
        ),
        graph('Tokens in / out by tier', [
          ...perTier((tier) => m.metric('inputTokens', { tier, label: `in ${tier}` })),
          ...perTier((tier) => m.metric('outputTokens', { tier, label: `out ${tier}` })),
        ]),
        graph('Share of monthly budget used', [budgetShare], {
          leftAnnotations: annotationsOf(budget),
          leftYAxis: { min: 0 },
        }),
      ),
      new cloudwatch.Row(
        graph(
          'Cascade and fallback rates (per 100 requests)',
          [m.ratePer100Requests('escalations', 'Escalations per 100 requests'), fallbackRate],
          { leftAnnotations: annotationsOf(fallback), leftYAxis: { min: 0 } },
        ),
        graph(
          'Confidence of final answers (p10 / p50 / p90)',
          ['p10', 'p50', 'p90'].map((statistic) => m.metricConfidence({ statistic, label: statistic })),
          { leftYAxis: { min: 0, max: 1 } },
        ),
        graph('Refused and failed requests', [
          m.metric('rejected', { label: METRICS.rejected.name }),
          m.metric('budgetRejected', { label: METRICS.budgetRejected.name }),
          m.metric('modelErrors', { label: METRICS.modelErrors.name }),
          m.metric('budgetDowngrades', { label: METRICS.budgetDowngrades.name }),
          accessDenied,
        ]),
      ),
    ];
  }

  widgets(): cloudwatch.IWidget[] {
    return this.rows;
  }
}

/** Props of {@link BedrockThrottlesMonitoring}. */
export interface BedrockThrottlesMonitoringProps extends BaseMonitoringProps {
  readonly metrics: SwitchboardMetrics;
  /** Bedrock model or inference-profile ids the tenant's function calls (tier models and fallbacks). */
  readonly modelIds: readonly string[];
}

/** Bedrock throttles of the tenant's models (account-wide: shared with every tenant using a model). No alarms. */
export class BedrockThrottlesMonitoring extends Monitoring {
  private readonly widget: cloudwatch.GraphWidget;

  constructor(scope: MonitoringScope, props: BedrockThrottlesMonitoringProps) {
    super(scope, props);
    this.widget = graph(
      'Bedrock throttles by model (account-wide)',
      props.modelIds.map((id) => props.metrics.metricBedrockInvocationThrottles(id)),
      { width: FullWidth },
    );
  }

  widgets(): cloudwatch.IWidget[] {
    return [this.widget];
  }
}

/** Props of {@link ReviewQueueMonitoring}. */
export interface ReviewQueueMonitoringProps extends BaseMonitoringProps {
  readonly metrics: SwitchboardMetrics;
  /** Minutes the oldest pending review may wait, by severity. */
  readonly reviewSlaMinutes: SeverityThresholds;
  readonly alarmSet: AlarmSet;
}

/**
 * The tenant's review queue as the review handlers report it (depth, oldest pending age, outcomes, refusals by
 * the caps, webhook failures), with the review SLA and refused reviews alarms: business signals, not health.
 */
export class ReviewQueueMonitoring extends Monitoring {
  private readonly row: cloudwatch.Row;

  constructor(scope: MonitoringScope, props: ReviewQueueMonitoringProps) {
    super(scope, props);
    const { metrics: m, reviewSlaMinutes: sla } = props;
    const tenant = m.tenantId;
    const severities = severitiesOf(props.alarmSet, true);
    const factory = this.createAlarmFactory('Tenant');
    const reviewAge = m.metricOldestPendingReviewAge({ label: 'Oldest pending review (s)' });
    const reviewSla = addSeverityAlarms(
      factory,
      reviewAge,
      { warning: sla.warning * 60, critical: sla.critical * 60 },
      severities,
      {
        alarmNameSuffix: 'ReviewSla',
        alarmDescription: `The oldest pending review of ${tenant} has waited at least the review SLA (warning ${sla.warning} min, critical ${sla.critical} min).`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
    );
    // Answers that needed review and were refused by the tenant's caps: the queue is flooded (an API key
    // sending what it knows goes to review, or reviewers far behind).
    const reviewsRefused = m.metric('reviewsRefused', { label: METRICS.reviewsRefused.name });
    const refused = addSeverityAlarms(factory, reviewsRefused, REVIEWS_REFUSED_ALARM, severities, {
      alarmNameSuffix: 'ReviewsRefused',
      alarmDescription: `Answers of ${tenant} that needed human review were refused (429 review_queue_full or review_rate_exceeded): its review queue is at escalation.maxOpenReviews or escalation.maxReviewsPerHour. Charged, not released. See README, "Review flooding".`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    for (const a of [...reviewSla, ...refused]) this.addAlarm(a);

    this.row = new cloudwatch.Row(
      graph('Review queue', [m.metricPendingReviews({ label: 'Pending reviews' })], {
        right: [reviewAge],
        rightAnnotations: annotationsOf(reviewSla),
      }),
      graph(
        'Review outcomes',
        (['reviewsApproved', 'reviewsEdited', 'reviewsRejected', 'reviewsExpired', 'reviewsFailed'] as const).map((k) =>
          m.metric(k, { label: METRICS[k].name }),
        ),
        { stacked: true },
      ),
      graph(
        'Reviews requested, refused by the caps, and webhook failures',
        [
          m.metric('reviews', { label: METRICS.reviews.name }),
          reviewsRefused,
          m.metric('webhookFailures', { label: METRICS.webhookFailures.name }),
        ],
        { leftAnnotations: annotationsOf(refused) },
      ),
    );
  }

  widgets(): cloudwatch.IWidget[] {
    return [this.row];
  }
}
