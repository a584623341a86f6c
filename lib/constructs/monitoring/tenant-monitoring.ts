import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  type AlarmFactory,
  type AlarmWithAnnotation,
  ApiGatewayMonitoring,
  type CustomAlarmThreshold,
  DynamoTableMonitoring,
  LambdaFunctionMonitoring,
  LatencyType,
  type Monitoring,
  MonitoringFacade,
  multipleActions,
  notifySns,
  StepFunctionMonitoring,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { METRICS } from '../../../lambda/shared/metrics';
import { TENANT_ID_PATTERN } from '../../../lambda/shared/tenant-vocabulary';
import {
  type AlarmSet,
  PLAN_DEFAULTS,
  REVIEW_SLA_SHARE_OF_TIMEOUT,
  type SeverityThresholds,
} from '../../config/plan-defaults';
import type { TenantConfig } from '../../config/tenant-config';
import { AlarmTopic } from './alarm-topic';
import { SwitchboardMetrics } from './switchboard-metrics';

/** Alarm thresholds of a tenant by severity (the resolved `alarms` block of the tenant file). */
export type TenantAlarmThresholds = TenantConfig['alarms'];

/** Severities, as cdk-monitoring-constructs disambiguators (they end alarm names and pick the composite). */
export const SEVERITIES = { warning: 'Warning', critical: 'Critical' } as const;

/** Props of {@link TenantMonitoring}. */
export interface TenantMonitoringProps {
  readonly tenantId: string;
  /** The tenant API (its stage `stageName` is monitored). */
  readonly api: apigw.IRestApi;
  /** Deployed stage of the API. */
  readonly stageName: string;
  /** The inference function. */
  readonly fn: lambda.IFunction;
  /** The ledger table. */
  readonly table: dynamodb.ITable;
  /** The tenant key: it encrypts the tenant ops topic (CloudWatch alarms are allowed to use it). */
  readonly key: kms.IKey;
  /** The platform team's ops topic: every alarm notifies it. */
  readonly platformOpsTopic: sns.ITopic;
  /**
   * The tenant's own operations contacts: a tenant ops topic (encrypted with the tenant key) with one e-mail
   * subscription each, notified by every alarm besides the platform topic.
   * @default - no tenant topic: the platform's ops contacts receive the tenant's alarms
   */
  readonly opsEmails?: readonly string[];
  /**
   * Monthly budget in USD (shown on the budget widget).
   * @default 0 - no budget line
   */
  readonly monthlyBudgetUsd?: number;
  /**
   * Model tiers the tenant may use (one series per tier on the tier widgets).
   * @default ['fast', 'balanced', 'deep']
   */
  readonly tiers?: readonly string[];
  /**
   * Bedrock model or inference-profile ids the tenant's function calls (tier models and fallbacks).
   * @default - no Bedrock throttles widget
   */
  readonly bedrockModelIds?: readonly string[];
  /**
   * Alarm thresholds by severity.
   * @default - the standard plan's defaults, review SLA from a 24-hour review timeout
   */
  readonly thresholds?: TenantAlarmThresholds;
  /**
   * The review workflow's state machine: adds the review widgets (queue depth, oldest pending age, outcomes,
   * executions) and the review SLA and state machine alarms.
   * @default - no review widgets or alarms
   */
  readonly reviewStateMachine?: sfn.IStateMachine;
  /**
   * Which alarms: `full` (warning and critical of every alarm, and the composite "unhealthy"), or `essential`
   * (critical only, of what a person must act on: API 5xx share and p99 latency, budget, review SLA and failed
   * reviews, models refused; what those already say, such as Lambda errors behind 5xx answers, is left out).
   * @default 'full'
   */
  readonly alarmSet?: AlarmSet;
  /**
   * Whether the tenant gets a dashboard of its own (the fleet dashboard shows every tenant regardless).
   * @default true
   */
  readonly dashboard?: boolean;
}

/**
 * One tenant's dashboard (`Switchboard-<tenant>`) and alarms. Every alarm, including the composite
 * "tenant unhealthy", notifies the platform ops topic and, when the tenant has ops contacts of its own, the
 * tenant's ops topic (KMS-encrypted with the tenant key, TLS only), on ALARM and on OK.
 *
 * Built on cdk-monitoring-constructs where it fits: its alarm factory (names, descriptions, severity
 * disambiguators, the two-topic action, the composite alarm) and its API Gateway, Lambda, DynamoDB and Step
 * Functions segments (widgets and alarms). Switchboard's own metrics (cost, tiers, cascade, fallbacks,
 * confidence, budget, reviews) and Bedrock throttles are not covered by the library: those widgets and
 * alarms are written here from {@link SwitchboardMetrics}.
 */
export class TenantMonitoring extends Construct {
  /** The tenant's own ops topic (alarm notifications), when the tenant has ops contacts of its own. */
  readonly opsTopic?: sns.ITopic;
  /** The tenant dashboard, unless `dashboard: false`. */
  readonly dashboard?: cloudwatch.Dashboard;
  /** Every metric alarm (not the composite). */
  readonly alarms: readonly cloudwatch.AlarmBase[];
  /** ALARM when any critical availability alarm is in ALARM (the full alarm set only). */
  readonly unhealthyAlarm?: cloudwatch.CompositeAlarm;
  /** The tenant's Switchboard metrics, as the handlers emit them. */
  readonly metrics: SwitchboardMetrics;

  constructor(scope: Construct, id: string, props: TenantMonitoringProps) {
    super(scope, id);
    const thresholds = props.thresholds ?? defaultThresholds();
    validate(this, props, thresholds);
    const tenant = props.tenantId;
    const tiers = props.tiers ?? ['fast', 'balanced', 'deep'];
    const m = new SwitchboardMetrics(tenant);
    this.metrics = m;

    const topics: sns.ITopic[] = [props.platformOpsTopic];
    if (props.opsEmails?.length) {
      this.opsTopic = new AlarmTopic(this, 'OpsTopic', {
        displayName: `Switchboard ${tenant} operations alerts`,
        key: props.key,
        emails: props.opsEmails,
      }).topic;
      topics.unshift(this.opsTopic);
    }

    const facade = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: {
        alarmNamePrefix: `Switchboard-${tenant}`,
        actionsEnabled: true,
        action: multipleActions(...topics.map((t) => notifySns(t, t))),
        useDefaultDedupeForError: false,
        useDefaultDedupeForLatency: false,
      },
      // The dashboard is assembled below: one per tenant, in our order.
      dashboardFactory: { addDynamicSegment: () => undefined, getDashboard: () => undefined },
    });
    const gte = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const full = (props.alarmSet ?? 'full') === 'full';
    /** Severities of the essential alarms; `none` for what the full set alone has. */
    const severities = full ? (['warning', 'critical'] as const) : (['critical'] as const);
    const only = full ? severities : ([] as const);
    const counts = (t: SeverityThresholds, sev: readonly Severity[] = only) =>
      bySeverity(t, (v) => ({ maxErrorCount: v, comparisonOperatorOverride: gte }) as const, sev);

    // AWS services: cdk-monitoring-constructs segments (widgets and alarms).
    const segments: Monitoring[] = [];
    const api = new ApiGatewayMonitoring(facade, {
      api: props.api,
      apiStage: props.stageName,
      alarmFriendlyName: 'Api',
      humanReadableName: `Tenant API (API Gateway, stage ${props.stageName})`,
      latencyTypesToRender: [LatencyType.P50, LatencyType.P90, LatencyType.P99],
      addLatencyP99Alarm: bySeverity(
        thresholds.p99LatencyMs,
        (v) => ({
          maxLatency: Duration.millis(v),
          comparisonOperatorOverride: gte,
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
        }),
        severities,
      ),
    });
    const fn = new LambdaFunctionMonitoring(facade, {
      lambdaFunction: props.fn,
      alarmFriendlyName: 'Inference',
      humanReadableName: 'Inference function (Lambda)',
      addFaultCountAlarm: counts(thresholds.lambdaErrors),
      addThrottlesCountAlarm: counts(thresholds.throttles),
    });
    const table = new DynamoTableMonitoring(facade, {
      table: props.table,
      alarmFriendlyName: 'Ledger',
      humanReadableName: 'Ledger (DynamoDB)',
      addReadThrottledEventsCountAlarm: bySeverity(
        thresholds.throttles,
        (v) => ({ maxThrottledEventsThreshold: v, comparisonOperatorOverride: gte }),
        only,
      ),
      addWriteThrottledEventsCountAlarm: bySeverity(
        thresholds.throttles,
        (v) => ({ maxThrottledEventsThreshold: v, comparisonOperatorOverride: gte }),
        only,
      ),
    });
    segments.push(api, fn, table);
    let review: StepFunctionMonitoring | undefined;
    if (props.reviewStateMachine) {
      review = new StepFunctionMonitoring(facade, {
        stateMachine: props.reviewStateMachine,
        alarmFriendlyName: 'Review',
        humanReadableName: 'Review workflow (Step Functions)',
        addFailedExecutionCountAlarm: counts(thresholds.stateMachineFailures, severities),
        // Reviews that time out are already late: the review SLA alarm says so first.
        addTimedOutExecutionCountAlarm: counts(thresholds.stateMachineFailures),
      });
      segments.push(review);
    }

    // Switchboard's own alarms, through the same factory (same names, actions and annotations).
    const factory = facade.createAlarmFactory('Tenant');
    const fiveXx = new cloudwatch.MathExpression({
      expression: '100 * e',
      // The library's 5XXError metric (ApiName and Stage); its Average is the 5xx share (API Gateway emits 0 or 1).
      usingMetrics: { e: (api.fault5XXCountMetric as cloudwatch.Metric).with({ statistic: 'Average' }) },
      label: '5xx share of requests (%)',
      period: Duration.minutes(5),
    });
    const errorRate = addSeverityAlarms(factory, fiveXx, thresholds.errorRate5xxPercent, severities, {
      alarmNameSuffix: '5xxRate',
      alarmDescription: `5xx answers of the ${tenant} API are at or above the threshold share of requests (2 of 3 five-minute periods).`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    const fallbackRate = m.ratePer100Requests('fallbacks', 'Fallback calls per 100 requests');
    // Fallbacks keep answers coming; the essential set relies on the 5xx share once they stop sufficing.
    const fallback = addSeverityAlarms(factory, fallbackRate, thresholds.fallbackRatePercent, only, {
      alarmNameSuffix: 'FallbackRate',
      alarmDescription: `Fallback model calls of ${tenant} have been at or above the threshold per 100 requests for 15 minutes: a tier's model is throttled or failing.`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
    const accessDenied = m.metric('modelAccessDenied', { label: METRICS.modelAccessDenied.name });
    const denied = addSeverityAlarms(factory, accessDenied, MODEL_ACCESS_DENIED_ALARM, severities, {
      alarmNameSuffix: 'ModelAccessDenied',
      alarmDescription: `Bedrock refused calls of ${tenant} with AccessDeniedException: the function's IAM policy does not name a region an inference profile routed to, or a model's access (subscription, use-case form) is missing. Fallbacks answered meanwhile.`,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    const budgetShare = m.metricBudgetUsedShare({ label: 'Share of monthly budget used' });
    const budget = addSeverityAlarms(factory, budgetShare, thresholds.budgetShare, severities, {
      alarmNameSuffix: 'Budget',
      alarmDescription: `${tenant} has spent at least the threshold share of its monthly budget (${props.monthlyBudgetUsd ?? 0} USD).`,
      // No requests means no new spend: keep the last state until a new value (or a new month) arrives.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    let reviewSla: AlarmWithAnnotation[] = [];
    let refused: AlarmWithAnnotation[] = [];
    const reviewAge = m.metricOldestPendingReviewAge({ label: 'Oldest pending review (s)' });
    const reviewsRefused = m.metric('reviewsRefused', { label: METRICS.reviewsRefused.name });
    if (review) {
      // Answers that needed review and were refused by the tenant's caps: the queue is flooded (an API key
      // sending what it knows goes to review, or reviewers far behind). A business signal, not health.
      refused = addSeverityAlarms(factory, reviewsRefused, REVIEWS_REFUSED_ALARM, severities, {
        alarmNameSuffix: 'ReviewsRefused',
        alarmDescription: `Answers of ${tenant} that needed human review were refused (429 review_queue_full or review_rate_exceeded): its review queue is at escalation.maxOpenReviews or escalation.maxReviewsPerHour. Charged, not released. See README, "Review flooding".`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      });
      reviewSla = addSeverityAlarms(
        factory,
        reviewAge,
        { warning: thresholds.reviewSlaMinutes.warning * 60, critical: thresholds.reviewSlaMinutes.critical * 60 },
        severities,
        {
          alarmNameSuffix: 'ReviewSla',
          alarmDescription: `The oldest pending review of ${tenant} has waited at least the review SLA (warning ${thresholds.reviewSlaMinutes.warning} min, critical ${thresholds.reviewSlaMinutes.critical} min).`,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
        },
      );
    }

    const segmentAlarms = segments.flatMap((s) => s.createdAlarms());
    const all = [...segmentAlarms, ...errorRate, ...fallback, ...denied, ...budget, ...reviewSla, ...refused];
    // "Unhealthy" = any critical availability alarm; budget, review SLA and refused reviews are business signals.
    const healthCritical = [...segmentAlarms, ...errorRate, ...fallback, ...denied].filter(
      (a) => a.disambiguator === SEVERITIES.critical,
    );
    // The essential set has only critical alarms, each notifying on its own: a composite would repeat them.
    this.unhealthyAlarm = full
      ? factory.addCompositeAlarm(healthCritical, {
          disambiguator: SEVERITIES.critical,
          alarmNameSuffix: 'Unhealthy',
          alarmDescription: `Tenant ${tenant} is unhealthy: at least one critical availability alarm (API 5xx rate or p99 latency, inference errors or throttles, ledger throttles, review failures, fallback rate, model access denied) is in ALARM.`,
        })
      : undefined;
    this.alarms = all.map((a) => a.alarm);

    // The dashboard: alarm status first, then Switchboard's own view, then the AWS services.
    const W = 8;
    const H = 6;
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: W, height: H, ...extra });
    const annotationsOf = (alarms: AlarmWithAnnotation[]) => alarms.map((a) => a.annotation);
    const perTier = (f: (tier: string) => cloudwatch.IMetric) => tiers.map(f);
    const widgets: cloudwatch.IWidget[][] = [
      [
        new cloudwatch.TextWidget({
          markdown: `# Switchboard tenant \`${tenant}\`\nMonthly budget **${props.monthlyBudgetUsd ?? 0} USD**. Alarms notify the tenant ops topic and the platform ops topic; runbooks: README, "Operating Switchboard".`,
          width: 24,
          height: 2,
        }),
      ],
      [
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: [...(this.unhealthyAlarm ? [this.unhealthyAlarm] : []), ...this.alarms],
          width: 24,
          height: Math.min(10, 2 + Math.ceil((this.alarms.length + 1) / 4)),
        }),
      ],
      [
        graph('Requests by tier', [...perTier((tier) => m.metricRequests({ tier, label: tier }))], {
          stacked: true,
        }),
        graph(
          'Share of requests per tier (%)',
          tiers.map(
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
      ],
      [
        graph('Cost (USD) by tier', [...perTier((tier) => m.metricCostUsd({ tier, label: tier }))], {
          stacked: true,
        }),
        graph('Tokens in / out by tier', [
          ...perTier((tier) => m.metric('inputTokens', { tier, label: `in ${tier}` })),
          ...perTier((tier) => m.metric('outputTokens', { tier, label: `out ${tier}` })),
        ]),
        graph('Share of monthly budget used', [budgetShare], {
          leftAnnotations: annotationsOf(budget),
          leftYAxis: { min: 0 },
        }),
      ],
      [
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
      ],
    ];
    if (props.bedrockModelIds?.length) {
      widgets.push([
        graph(
          'Bedrock throttles by model (account-wide)',
          props.bedrockModelIds.map((id) => m.metricBedrockInvocationThrottles(id)),
          { width: 24 },
        ),
      ]);
    }
    if (review) {
      widgets.push([
        graph('Review queue', [m.metricPendingReviews({ label: 'Pending reviews' })], {
          right: [reviewAge],
          rightAnnotations: annotationsOf(reviewSla),
        }),
        graph(
          'Review outcomes',
          (['reviewsApproved', 'reviewsEdited', 'reviewsRejected', 'reviewsExpired', 'reviewsFailed'] as const).map(
            (k) => m.metric(k, { label: METRICS[k].name }),
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
      ]);
    }
    if (props.dashboard === false) return;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `Switchboard-${tenant}`,
      defaultInterval: Duration.hours(3),
      widgets: [...widgets, ...segments.map((s) => s.widgets())],
    });
  }
}

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

/** Thresholds that deploy sensibly without a tenant file: the standard plan, a 24-hour review timeout. */
function defaultThresholds(): TenantAlarmThresholds {
  const timeout = PLAN_DEFAULTS.standard.escalation.reviewTimeoutMinutes;
  return {
    ...PLAN_DEFAULTS.standard.alarms,
    reviewSlaMinutes: {
      warning: Math.round(timeout * REVIEW_SLA_SHARE_OF_TIMEOUT.warning),
      critical: Math.round(timeout * REVIEW_SLA_SHARE_OF_TIMEOUT.critical),
    },
  };
}

type Severity = keyof SeverityThresholds;

/** `{ Warning: f(warning), Critical: f(critical) }` for `severities`: the library's severity-keyed alarm props. */
function bySeverity<T extends CustomAlarmThreshold>(
  t: SeverityThresholds,
  f: (v: number) => T,
  severities: readonly Severity[],
): Record<string, T> {
  return Object.fromEntries(severities.map((sev) => [SEVERITIES[sev], f(t[sev])]));
}

/** An alarm on `metric` at or above each threshold of `severities`. */
function addSeverityAlarms(
  factory: AlarmFactory,
  metric: cloudwatch.Metric | cloudwatch.MathExpression,
  t: SeverityThresholds,
  severities: readonly Severity[],
  props: {
    alarmNameSuffix: string;
    alarmDescription: string;
    treatMissingData: cloudwatch.TreatMissingData;
    evaluationPeriods: number;
    datapointsToAlarm: number;
  },
): AlarmWithAnnotation[] {
  return severities.map((sev) =>
    factory.addAlarm(metric, {
      ...props,
      disambiguator: SEVERITIES[sev],
      threshold: t[sev],
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    }),
  );
}

/** Collects every invalid prop and throws one error naming each. */
function validate(scope: Construct, props: TenantMonitoringProps, thresholds: TenantAlarmThresholds): void {
  const problems: string[] = [];
  if (!TENANT_ID_PATTERN.test(props.tenantId)) {
    problems.push(`tenantId: "${props.tenantId}" must be 3–32 characters of a-z, 0-9 and "-"`);
  }
  if (props.monthlyBudgetUsd !== undefined && !(props.monthlyBudgetUsd >= 0)) {
    problems.push(`monthlyBudgetUsd: ${props.monthlyBudgetUsd} must be at least 0`);
  }
  for (const [name, t] of Object.entries(thresholds) as Array<[string, SeverityThresholds]>) {
    if (!(t.warning < t.critical)) {
      problems.push(`thresholds.${name}: warning ${t.warning} must be below critical ${t.critical}`);
    }
  }
  if (problems.length) throw new Error(`TenantMonitoring ${scope.node.path}: ${problems.join('; ')}`);
}
