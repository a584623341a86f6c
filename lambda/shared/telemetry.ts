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
  /**
   * The pool cell of a pooled function: metrics go under `[Cell, TenantId]` and `[Cell]` (with a tier, also
   * `[Cell, Tier]`); the cell's own telemetry (`tenantId` equal to the cell id) under `[Cell]` only.
   */
  cellId?: string;
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
      const { tenant, tier, cell } = METRIC_DIMENSIONS;
      const dimSets: string[][] = [];
      const dimValues: Record<string, string> = {};
      if (opts.cellId === undefined) {
        dimSets.push([tenant]);
        dimValues[tenant] = opts.tenantId;
        if (dims.tier) dimSets.push([tenant, tier]);
      } else {
        dimValues[cell] = opts.cellId;
        if (opts.tenantId !== opts.cellId) {
          dimSets.push([cell, tenant]);
          dimValues[tenant] = opts.tenantId;
        }
        dimSets.push([cell]);
        if (dims.tier) dimSets.push([cell, tier]);
      }
      if (dims.tier) dimValues[tier] = dims.tier;
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
