/**
 * One structured logger and one metrics emitter per function. Every line carries the tenant id. Metrics are
 * written in CloudWatch embedded metric format (EMF), so CloudWatch extracts them from the log stream with
 * no API call. Prompts, answers, API keys and task tokens are never passed here.
 */
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS, type MetricKey } from './metrics';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const LEVELS: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

/** Where lines go; tests pass an array collector. */
export type LineSink = (line: string) => void;

export interface Telemetry {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /**
   * Emits one EMF record with the given metric values under the tenant dimension, and with a tier also
   * under (tenant, tier), so dashboards get tenant totals and the per-tier split from one line.
   */
  metrics(values: Partial<Record<MetricKey, number>>, dims?: { tier?: string }): void;
}

/** A telemetry instance bound to one tenant. */
export function makeTelemetry(opts: {
  tenantId: string;
  service: string;
  level?: LogLevel;
  sink?: LineSink;
  now?: () => number;
}): Telemetry {
  const sink = opts.sink ?? ((l: string) => process.stdout.write(`${l}\n`));
  const min = LEVELS[opts.level ?? 'INFO'];
  const now = opts.now ?? Date.now;
  return {
    log(level, message, fields = {}) {
      if (LEVELS[level] < min) return;
      sink(
        JSON.stringify({
          timestamp: new Date(now()).toISOString(),
          level,
          service: opts.service,
          tenantId: opts.tenantId,
          message,
          ...fields,
        }),
      );
    },
    metrics(values, dims = {}) {
      const entries = Object.entries(values).filter(([, v]) => typeof v === 'number' && Number.isFinite(v));
      if (entries.length === 0) return;
      const dimSets: string[][] = [[METRIC_DIMENSIONS.tenant]];
      const dimValues: Record<string, string> = { [METRIC_DIMENSIONS.tenant]: opts.tenantId };
      if (dims.tier) {
        dimSets.push([METRIC_DIMENSIONS.tenant, METRIC_DIMENSIONS.tier]);
        dimValues[METRIC_DIMENSIONS.tier] = dims.tier;
      }
      const record: Record<string, unknown> = {
        _aws: {
          Timestamp: now(),
          CloudWatchMetrics: [
            {
              Namespace: METRIC_NAMESPACE,
              Dimensions: dimSets,
              Metrics: entries.map(([k]) => ({
                Name: METRICS[k as MetricKey].name,
                Unit: METRICS[k as MetricKey].unit,
              })),
            },
          ],
        },
        service: opts.service,
        ...dimValues,
      };
      for (const [k, v] of entries) record[METRICS[k as MetricKey].name] = v;
      sink(JSON.stringify(record));
    },
  };
}
