import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  ApiGatewayMonitoring,
  DefaultDashboardFactory,
  DynamoTableMonitoring,
  FullWidth,
  LambdaFunctionMonitoring,
  LatencyType,
  type Monitoring,
  MonitoringFacade,
  multipleActions,
  notifySns,
  StepFunctionMonitoring,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { TENANT_ID_PATTERN } from '../../../lambda/shared/tenant-vocabulary';
import {
  type AlarmSet,
  defaultReviewSlaMinutes,
  PLAN_DEFAULTS,
  type SeverityThresholds,
} from '../../config/plan-defaults';
import { AlarmTopic } from './alarm-topic';
import {
  errorCountAlarms,
  HEALTH_TAG,
  p99LatencyAlarms,
  SEVERITIES,
  severitiesOf,
  throttledEventAlarms,
} from './severity';
import { SwitchboardMetrics } from './switchboard-metrics';
import {
  BedrockThrottlesMonitoring,
  ReviewQueueMonitoring,
  type TenantAlarmThresholds,
  TenantUsageMonitoring,
} from './tenant-segments';

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
  /**
   * The tenant key: it encrypts the tenant ops topic. Its owner lets CloudWatch alarms use it
   * (`TenantData.allowCloudWatchAlarms`): this construct never edits a key policy.
   */
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
   * Alarm thresholds by severity, as the tenant's configuration resolved and validated them.
   * @default - the standard plan's defaults, with the review SLA the configuration derives from its review timeout
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
 * One tenant's dashboard (`Switchboard-<tenant>`) and alarms, composed on cdk-monitoring-constructs: a
 * `MonitoringFacade` whose alarm factory names every alarm, describes it and sends it, including the composite
 * "tenant unhealthy", to the platform ops topic and, when the tenant has ops contacts of its own, the tenant's
 * ops topic (KMS-encrypted with the tenant key, TLS only), on ALARM and on OK; and whose dashboard factory lays
 * out the segments in the order they are added.
 *
 * Segments: the library's API Gateway, Lambda, DynamoDB and Step Functions segments, and Switchboard's own
 * ({@link TenantUsageMonitoring}, {@link BedrockThrottlesMonitoring}, {@link ReviewQueueMonitoring}) for the
 * metrics the library does not know. The dashboard: a title, the alarm status of every alarm, Switchboard's
 * view, then the AWS services.
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
    const thresholds = props.thresholds ?? standardPlanThresholds();
    checkProps(this, props, thresholds);
    const tenant = props.tenantId;
    const alarmSet = props.alarmSet ?? 'full';
    const budgetUsd = props.monthlyBudgetUsd ?? 0;
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
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: `Switchboard-${tenant}`,
        createDashboard: props.dashboard !== false,
        detailDashboardRange: Duration.hours(3),
        // CloudWatch's own default (graphs adapt their period to the time range).
        detailDashboardPeriodOverride: cloudwatch.PeriodOverride.AUTO,
      }),
    });

    const { api, segments: services } = awsServiceSegments(facade, props, thresholds, alarmSet);
    const switchboard: Monitoring[] = [
      new TenantUsageMonitoring(facade, {
        metrics: m,
        tiers: props.tiers ?? ['fast', 'balanced', 'deep'],
        thresholds,
        alarmSet,
        monthlyBudgetUsd: budgetUsd,
        // The library's 5XXError metric of the API (ApiName and Stage): a plain metric, not math.
        api5xxMetric: api.fault5XXCountMetric as cloudwatch.Metric,
      }),
    ];
    if (props.bedrockModelIds?.length) {
      switchboard.push(new BedrockThrottlesMonitoring(facade, { metrics: m, modelIds: props.bedrockModelIds }));
    }
    if (props.reviewStateMachine) {
      switchboard.push(
        new ReviewQueueMonitoring(facade, { metrics: m, reviewSlaMinutes: thresholds.reviewSlaMinutes, alarmSet }),
      );
    }

    const all = [...services, ...switchboard].flatMap((s) => s.createdAlarms());
    // The essential set has only critical alarms, each notifying on its own: a composite would repeat them.
    this.unhealthyAlarm =
      alarmSet === 'full'
        ? facade.createAlarmFactory('Tenant').addCompositeAlarm(
            all.filter((a) => a.disambiguator === SEVERITIES.critical && a.customTags?.includes(HEALTH_TAG)),
            {
              disambiguator: SEVERITIES.critical,
              alarmNameSuffix: 'Unhealthy',
              alarmDescription: `Tenant ${tenant} is unhealthy: at least one critical availability alarm (API 5xx rate or p99 latency, inference errors or throttles, ledger throttles, review failures, fallback rate, model access denied) is in ALARM.`,
            },
          )
        : undefined;
    this.alarms = all.map((a) => a.alarm);

    // The dashboard, in the order of the segments: title, alarm status, Switchboard's view, the AWS services.
    facade.addWidget(
      new cloudwatch.TextWidget({
        markdown: `# Switchboard tenant \`${tenant}\`\nMonthly budget **${budgetUsd} USD**. Alarms notify the tenant ops topic and the platform ops topic; runbooks: README, "Operating Switchboard".`,
        width: FullWidth,
        height: 2,
      }),
    );
    facade.addWidget(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...(this.unhealthyAlarm ? [this.unhealthyAlarm] : []), ...this.alarms],
        width: FullWidth,
        height: Math.min(10, 2 + Math.ceil((this.alarms.length + 1) / 4)),
      }),
    );
    for (const segment of [...switchboard, ...services]) facade.addSegment(segment);
    this.dashboard = facade.createdDashboard();
  }
}

/**
 * The library's segments of the AWS services behind the tenant (API, inference function, ledger, review workflow)
 * with their alarms: each says the tenant is unavailable ({@link HEALTH_TAG}).
 */
function awsServiceSegments(
  facade: MonitoringFacade,
  props: TenantMonitoringProps,
  thresholds: TenantAlarmThresholds,
  alarmSet: AlarmSet,
): { api: ApiGatewayMonitoring; segments: Monitoring[] } {
  const counts = (t: SeverityThresholds, essential: boolean) => errorCountAlarms(t, severitiesOf(alarmSet, essential));
  const throttledEvents = (t: SeverityThresholds) => throttledEventAlarms(t, severitiesOf(alarmSet, false));

  const api = new ApiGatewayMonitoring(facade, {
    api: props.api,
    apiStage: props.stageName,
    alarmFriendlyName: 'Api',
    humanReadableName: `Tenant API (API Gateway, stage ${props.stageName})`,
    latencyTypesToRender: [LatencyType.P50, LatencyType.P90, LatencyType.P99],
    addLatencyP99Alarm: p99LatencyAlarms(thresholds.p99LatencyMs, severitiesOf(alarmSet, true)),
  });
  const segments: Monitoring[] = [
    api,
    new LambdaFunctionMonitoring(facade, {
      lambdaFunction: props.fn,
      alarmFriendlyName: 'Inference',
      humanReadableName: 'Inference function (Lambda)',
      addFaultCountAlarm: counts(thresholds.lambdaErrors, false),
      addThrottlesCountAlarm: counts(thresholds.throttles, false),
    }),
    new DynamoTableMonitoring(facade, {
      table: props.table,
      alarmFriendlyName: 'Ledger',
      humanReadableName: 'Ledger (DynamoDB)',
      addReadThrottledEventsCountAlarm: throttledEvents(thresholds.throttles),
      addWriteThrottledEventsCountAlarm: throttledEvents(thresholds.throttles),
    }),
  ];
  if (props.reviewStateMachine) {
    segments.push(
      new StepFunctionMonitoring(facade, {
        stateMachine: props.reviewStateMachine,
        alarmFriendlyName: 'Review',
        humanReadableName: 'Review workflow (Step Functions)',
        addFailedExecutionCountAlarm: counts(thresholds.stateMachineFailures, true),
        // Reviews that time out are already late: the review SLA alarm says so first.
        addTimedOutExecutionCountAlarm: counts(thresholds.stateMachineFailures, false),
      }),
    );
  }
  return { api, segments };
}

/** The thresholds of a tenant file that sets none, on the standard plan: what the configuration resolves. */
function standardPlanThresholds(): TenantAlarmThresholds {
  const plan = PLAN_DEFAULTS.standard;
  return { ...plan.alarms, reviewSlaMinutes: defaultReviewSlaMinutes(plan.escalation.reviewTimeoutMinutes) };
}

/**
 * Props that did not come through the tenant configuration (another app, a test): the configuration's tenant
 * id pattern, a budget of at least 0, each warning below its critical. Collects every problem and throws one
 * error naming each.
 */
function checkProps(scope: Construct, props: TenantMonitoringProps, thresholds: TenantAlarmThresholds): void {
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
