/**
 * Alarm severities as cdk-monitoring-constructs expresses them: a disambiguator per severity (it ends the alarm
 * name), severity-keyed threshold records for the library's segments, and the alarm sets of a tenant.
 */
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
