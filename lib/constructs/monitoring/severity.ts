/**
 * Alarm severities as cdk-monitoring-constructs expresses them: a disambiguator per severity (it ends the alarm
 * name), severity-keyed threshold records for the library's segments, and the alarm sets of a tenant.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { AlarmFactory, AlarmWithAnnotation, CustomAlarmThreshold } from 'cdk-monitoring-constructs';
import type { AlarmSet, SeverityThresholds } from '../../config/plan-defaults';

/** Severities, as cdk-monitoring-constructs disambiguators (they end alarm names and pick the composite). */
export const SEVERITIES = { warning: 'Warning', critical: 'Critical' } as const;
export type Severity = keyof SeverityThresholds;

/**
 * Custom tag of the alarms that say the tenant is unavailable: their critical ones make the composite
 * "tenant unhealthy". Budget, review SLA and refused reviews are business signals and do not carry it.
 */
export const HEALTH_TAG = 'Health';

/**
 * The severities an alarm has in an alarm set: `full` has warning and critical of every alarm; `essential`
 * has the critical alarm of what a person must act on (`essential: true`) and nothing of the rest.
 */
export function severitiesOf(alarmSet: AlarmSet, essential: boolean): readonly Severity[] {
  if (alarmSet === 'full') return ['warning', 'critical'];
  return essential ? ['critical'] : [];
}

/** `{ Warning: f(warning), Critical: f(critical) }` for `severities`: the library's severity-keyed alarm props. */
export function bySeverity<T extends CustomAlarmThreshold>(
  t: SeverityThresholds,
  f: (v: number) => T,
  severities: readonly Severity[],
): Record<string, T> {
  return Object.fromEntries(severities.map((sev) => [SEVERITIES[sev], f(t[sev])]));
}

const GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;

/**
 * Health alarms ({@link HEALTH_TAG}) of the library's segments, at the severities given: the same thresholds for a
 * tenant's stack and a pool cell. An error count (faults, throttles, failed executions) at or above the threshold.
 */
export const errorCountAlarms = (t: SeverityThresholds, severities: readonly Severity[]) =>
  bySeverity(t, (v) => ({ maxErrorCount: v, comparisonOperatorOverride: GTE, customTags: [HEALTH_TAG] }), severities);

/** Throttled DynamoDB events at or above the threshold (health). */
export const throttledEventAlarms = (t: SeverityThresholds, severities: readonly Severity[]) =>
  bySeverity(
    t,
    (v) => ({ maxThrottledEventsThreshold: v, comparisonOperatorOverride: GTE, customTags: [HEALTH_TAG] }),
    severities,
  );

/** API p99 latency at or above the threshold (milliseconds) for 3 periods of 3 (health). */
export const p99LatencyAlarms = (t: SeverityThresholds, severities: readonly Severity[]) =>
  bySeverity(
    t,
    (v) => ({
      maxLatency: Duration.millis(v),
      comparisonOperatorOverride: GTE,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      customTags: [HEALTH_TAG],
    }),
    severities,
  );

/** What an alarm of {@link addSeverityAlarms} is, besides its metric and thresholds. */
export interface SeverityAlarmProps {
  readonly alarmNameSuffix: string;
  readonly alarmDescription: string;
  readonly treatMissingData: cloudwatch.TreatMissingData;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** @default - none */
  readonly customTags?: string[];
}

/** An alarm on `metric` at or above the threshold of each of `severities`, from the library's alarm factory. */
export function addSeverityAlarms(
  factory: AlarmFactory,
  metric: cloudwatch.Metric | cloudwatch.MathExpression,
  t: SeverityThresholds,
  severities: readonly Severity[],
  props: SeverityAlarmProps,
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
