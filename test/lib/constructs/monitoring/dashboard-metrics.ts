/**
 * Readers for synthesized CloudWatch dashboards and alarms: the dashboard body with intrinsics flattened
 * (`<LogicalId.Arn>`), its widgets, and the metrics each widget graphs.
 */
import { type CfnResourceJson, flatten, props, resourcesOfType, type TemplateLike } from '../../template-utils';

/** One widget of a dashboard body. */
export interface WidgetJson {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly metrics?: unknown[][];
    readonly alarms?: string[];
    readonly annotations?: { readonly horizontal?: Array<{ value: number; label?: string }> };
  };
}

/** A metric a widget graphs: namespace, name and its dimensions (name → value). */
export interface GraphedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, string>;
}

/** The body of the only dashboard in a template, with intrinsics flattened. */
export function dashboardBody(t: TemplateLike): { widgets: WidgetJson[] } {
  const dashboards = resourcesOfType(t, 'AWS::CloudWatch::Dashboard');
  if (dashboards.length !== 1) throw new Error(`expected one dashboard, found ${dashboards.length}`);
  return JSON.parse(flatten(props(dashboards[0]![1]).DashboardBody));
}

/** Metrics of a widget (plain metric rows; expressions are skipped, their inputs are rows too). */
export function graphedMetrics(w: WidgetJson): GraphedMetric[] {
  const out: GraphedMetric[] = [];
  for (const row of w.properties.metrics ?? []) {
    const parts = row.filter((x) => typeof x === 'string') as string[];
    if (parts.length < 2) continue;
    const [namespace, name, ...dims] = parts;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i + 1 < dims.length; i += 2) dimensions[dims[i]!] = dims[i + 1]!;
    out.push({ namespace: namespace!, name: name!, dimensions });
  }
  return out;
}

/** The metrics an alarm evaluates (single metric or every metric of its math). */
export function alarmMetrics(alarm: CfnResourceJson): GraphedMetric[] {
  const p = props(alarm);
  const dimsOf = (d: unknown) =>
    Object.fromEntries(((d as Array<{ Name: string; Value: unknown }>) ?? []).map((x) => [x.Name, flatten(x.Value)]));
  if (typeof p.MetricName === 'string') {
    return [{ namespace: p.Namespace as string, name: p.MetricName, dimensions: dimsOf(p.Dimensions) }];
  }
  return ((p.Metrics as Array<{ MetricStat?: { Metric: Record<string, unknown> } }>) ?? [])
    .filter((m) => m.MetricStat)
    .map((m) => ({
      namespace: m.MetricStat!.Metric.Namespace as string,
      name: m.MetricStat!.Metric.MetricName as string,
      dimensions: dimsOf(m.MetricStat!.Metric.Dimensions),
    }));
}
