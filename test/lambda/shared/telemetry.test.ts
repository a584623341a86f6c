import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../../../lambda/shared/metrics';
import { makeTelemetry } from '../../../lambda/shared/telemetry';

describe('telemetry', () => {
  it('writes metrics in embedded metric format with the tenant (and tier) dimension', () => {
    const lines: string[] = [];
    const t = makeTelemetry({ tenantId: 'acme', service: 'inference', sink: (l) => lines.push(l), now: () => 1000 });
    t.metrics({ requests: 1, costUsd: 0.5 }, { tier: 'fast' });
    const rec = JSON.parse(lines[0]!);
    expect(rec._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: METRIC_NAMESPACE,
      Dimensions: [[METRIC_DIMENSIONS.tenant], [METRIC_DIMENSIONS.tenant, METRIC_DIMENSIONS.tier]],
      Metrics: [
        { Name: METRICS.requests.name, Unit: 'Count' },
        { Name: METRICS.costUsd.name, Unit: 'None' },
      ],
    });
    expect(rec[METRIC_DIMENSIONS.tenant]).toBe('acme');
    expect(rec[METRIC_DIMENSIONS.tier]).toBe('fast');
    expect(rec[METRICS.requests.name]).toBe(1);
  });

  it("puts a pooled tenant's metrics under [Cell, TenantId] and [Cell], never [TenantId] alone (the silo SEARCH's)", () => {
    const lines: string[] = [];
    const sink = (l: string) => lines.push(l);
    const { tenant, tier, cell } = METRIC_DIMENSIONS;
    makeTelemetry({ tenantId: 'hooli', cellId: 'pool-1', service: 'pool-inference', sink }).metrics(
      { requests: 1 },
      { tier: 'fast' },
    );
    makeTelemetry({ tenantId: 'pool-1', cellId: 'pool-1', service: 'pool-inference', sink }).metrics({ rejected: 1 });
    const [pooled, own] = lines.map((l) => JSON.parse(l));
    expect(pooled._aws.CloudWatchMetrics[0].Dimensions).toEqual([[cell, tenant], [cell], [cell, tier]]);
    expect(pooled).toMatchObject({ [cell]: 'pool-1', [tenant]: 'hooli', [tier]: 'fast' });
    // The cell's own lines (requests not bound to a tenant) count for the cell only: no tenant named like the cell.
    expect(own._aws.CloudWatchMetrics[0].Dimensions).toEqual([[cell]]);
    expect(own[tenant]).toBeUndefined();
  });

  it('puts the tenant id on every log line and drops lines below the level', () => {
    const lines: string[] = [];
    const t = makeTelemetry({ tenantId: 'acme', service: 'inference', sink: (l) => lines.push(l), level: 'WARN' });
    t.log('INFO', 'hidden');
    t.log('ERROR', 'shown', { code: 'x' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'ERROR', tenantId: 'acme', message: 'shown', code: 'x' });
  });
});
