import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { CapacityReport } from '../../../lib/capacity/types';
import { acknowledge } from '../../../lib/compliance/acknowledge';
import { money } from '../../../lib/compliance/capacity-section';
import { renderComplianceMarkdown } from '../../../lib/compliance/render-markdown';
import { buildComplianceReport } from '../../../lib/compliance/report';
import { ack, CAPACITY, mdSection, mdTableRows, modelledCapacity, NEAR_QUOTA, reportOf } from './report-fixtures';

const REASON = 'Test fixture: this finding is accepted here to check how acknowledgements are grouped.';
const OTHER = 'Another reason, long enough for acknowledge(), shared by rules of two different packs.';

describe('renderComplianceMarkdown', () => {
  it('shows two resources acknowledged with the same reason as one row naming both', () => {
    const app = new App();
    const stack = new Stack(app, 'Keys', { env: { region: 'us-east-1' } });
    for (const id of ['First', 'Second']) {
      acknowledge(new kms.Key(stack, id, { enableKeyRotation: true }), 'Switchboard-KeyNotUsableByAccount', REASON);
    }
    const report = buildComplianceReport(app);
    expect(report.totals).toEqual({ findings: 0, acknowledged: 2 });

    const md = renderComplianceMarkdown(report);
    const section = mdSection(md, 'Keys');
    expect(section).toContain('### Acknowledged findings: 2, for 1 reason');
    expect(mdTableRows(section, 'reason')).toEqual([
      `| ${REASON} | \`Switchboard-KeyNotUsableByAccount\` | \`Keys/First/Resource\`<br>\`Keys/Second/Resource\` |`,
    ]);
    expect(mdTableRows(mdSection(md, 'Acknowledgements by reason'), 'reason')).toEqual([
      `| ${REASON} | \`Switchboard-KeyNotUsableByAccount\` | 2 | [Keys](#keys) |`,
    ]);
  });

  it('merges one reason across packs, and names the rules of a resource that has only some of them', () => {
    const md = renderComplianceMarkdown(
      reportOf({
        S: {
          acknowledged: [
            ack('HIPAA.Security-RuleA', 'S/Fn', OTHER),
            ack('AwsSolutions-RuleA', 'S/Fn', OTHER),
            ack('HIPAA.Security-RuleA', 'S/Other', OTHER),
          ],
        },
      }),
    );
    expect(mdTableRows(mdSection(md, 'S'), 'reason')).toEqual([
      `| ${OTHER} | \`AwsSolutions-RuleA\`<br>\`HIPAA.Security-RuleA\` | ` +
        '`S/Fn/Resource`<br>`S/Other/Resource` (only `HIPAA.Security-RuleA`) |',
    ]);
  });

  it('says "acknowledged on" only where the acknowledgement was made on a wider construct than the resource', () => {
    const md = renderComplianceMarkdown(
      reportOf({
        S: {
          acknowledged: [
            ack('AwsSolutions-RuleA', 'S/Group/Child', REASON, 'S/Group'),
            ack('AwsSolutions-RuleA', 'S/Own', REASON),
            { ruleId: 'AwsSolutions-RuleA', resource: 'S/Bare', acknowledgedOn: 'S/Bare', reason: REASON },
          ],
        },
      }),
    );
    expect(mdTableRows(mdSection(md, 'S'), 'reason')).toEqual([
      `| ${REASON} | \`AwsSolutions-RuleA\` | ` +
        '`S/Bare`<br>`S/Group/Child/Resource` acknowledged on `S/Group`<br>`S/Own/Resource` |',
    ]);
  });

  it('sorts rows by reason and is independent of the order findings were reported in (releases diff cleanly)', () => {
    const acks = [
      ack('AwsSolutions-RuleB', 'A/Two', 'b: second reason, long enough to be a reason for a reviewer.'),
      ack('HIPAA.Security-RuleA', 'A/One', 'a: first reason, long enough to be a reason for a reviewer.'),
      ack('AwsSolutions-RuleA', 'A/One', 'a: first reason, long enough to be a reason for a reviewer.'),
      ack('AwsSolutions-RuleA', 'A/Three', 'C: upper case sorts first in code-unit order, on every machine.'),
    ];
    const forward = renderComplianceMarkdown(reportOf({ A: { acknowledged: acks } }));
    const backward = renderComplianceMarkdown(reportOf({ A: { acknowledged: [...acks].reverse() } }));
    expect(backward).toBe(forward);
    expect(mdTableRows(mdSection(forward, 'A'), 'reason').map((r) => r.slice(2, 4))).toEqual(['C:', 'a:', 'b:']);
  });

  it('lists fleet-wide per reason the rules, the number of findings and the stacks', () => {
    const md = renderComplianceMarkdown(
      reportOf({
        Alpha: {
          acknowledged: [ack('AwsSolutions-RuleA', 'Alpha/X', REASON), ack('AwsSolutions-RuleA', 'Alpha/Y', REASON)],
        },
        Beta: {
          acknowledged: [ack('HIPAA.Security-RuleB', 'Beta/X', REASON), ack('AwsSolutions-RuleB', 'Beta/X', OTHER)],
        },
      }),
    );
    expect(mdTableRows(mdSection(md, 'Acknowledgements by reason'), 'reason')).toEqual([
      `| ${OTHER} | \`AwsSolutions-RuleB\` | 1 | [Beta](#beta) |`,
      `| ${REASON} | \`AwsSolutions-RuleA\`<br>\`HIPAA.Security-RuleB\` | 3 | [Alpha](#alpha)<br>[Beta](#beta) |`,
    ]);
    // The fleet table comes before the first stack.
    expect(md.indexOf('## Acknowledgements by reason')).toBeLessThan(md.indexOf('## Alpha'));
  });

  it('shows per pack the count of rules checked and the link to its rules, not the rules themselves', () => {
    const md = renderComplianceMarkdown(reportOf({ S: {} }));
    expect(mdTableRows(mdSection(md, 'Packs'), 'pack')).toEqual([
      '| AwsSolutions | 2 | <https://github.com/cdklabs/cdk-nag/blob/main/RULES.md#awssolutions> |',
      '| HIPAA.Security | 2 | <https://github.com/cdklabs/cdk-nag/blob/main/RULES.md#hipaa-security> |',
      // Linked from cdk.out/, where the report is written.
      '| Switchboard | 2 | [`lib/compliance/switchboard-checks.ts`](../lib/compliance/switchboard-checks.ts) |',
    ]);
    expect(md).not.toMatch(/RuleA|RuleB/);
  });

  it('keeps a reason with Markdown or HTML in it as text in its own cell', () => {
    const reason = 'Pipes | split cells, <script>alert(1)</script> is a tag, *this* is emphasis and [x](y) a link.';
    const md = renderComplianceMarkdown(reportOf({ S: { acknowledged: [ack('AwsSolutions-RuleA', 'S/R', reason)] } }));
    const [row] = mdTableRows(mdSection(md, 'S'), 'reason');
    expect(row).toContain(
      'Pipes \\| split cells, \\<script\\>alert(1)\\</script\\> is a tag, \\*this\\* is emphasis and \\[x\\](y) a link.',
    );
    expect(md).not.toContain('<script>');
    // Three cells: four unescaped pipes.
    expect(row!.match(/(?<!\\)\|/g)).toHaveLength(4);
  });

  it('lists unacknowledged findings with rule, severity, every resource and the description', () => {
    const md = renderComplianceMarkdown(
      reportOf({
        S: {
          findings: [
            { ruleId: 'AwsSolutions-RuleA', severity: 'error', description: 'Bad thing.', resources: ['S/A', 'S/B'] },
          ],
        },
      }),
    );
    expect(md).toContain('Unacknowledged findings: **2**');
    const section = mdSection(md, 'S');
    expect(section).toContain('### Unacknowledged findings: 2');
    expect(mdTableRows(section, 'rule')).toEqual(['| `AwsSolutions-RuleA` | error | `S/A`<br>`S/B` | Bad thing. |']);
  });
});

describe('renderComplianceMarkdown: capacity section', () => {
  const md = renderComplianceMarkdown(reportOf({ S: {} }, { capacity: CAPACITY }));
  const section = mdSection(md, 'Capacity');

  it('is there only when the report carries a capacity report, before the stacks', () => {
    expect(renderComplianceMarkdown(reportOf({ S: {} }))).not.toContain('## Capacity');
    expect(md.indexOf('\n## Capacity\n')).toBeLessThan(md.indexOf('\n## S\n'));
    expect(section).toContain(
      'Tenants: 3 (premium 1, standard 2). Quotas: 2, **1 crossed** (0 deploy-time, 1 runtime).',
    );
  });

  it('shows each quota against its limit with its source, and a crossed one with the tenants that pushed it over', () => {
    expect(mdTableRows(section, 'quota')).toEqual([
      '| Regional APIs per account per Region<br>`apigateway.regionalRestApis` | API Gateway | deploy | 3 | 600 | ' +
        'AWS default | 597 | no | — | ' +
        '[docs.aws.amazon.com](https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html), read 2025-06-02 |',
      '| Concurrent executions<br>`lambda.concurrentExecutions` | Lambda | runtime | 1200 | 1000 | ' +
        'cdk.json | -200 | **yes** | globex, initech | ' +
        '[docs.aws.amazon.com](https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), read 2025-06-02 |',
    ]);
  });

  it('shows how many more tenants of each plan fit and the quota that stops them first', () => {
    expect(mdTableRows(section, 'plan')).toEqual([
      '| premium | 0 | Concurrent executions<br>`lambda.concurrentExecutions` |',
      '| standard | 597 | Regional APIs per account per Region<br>`apigateway.regionalRestApis` |',
      '| basic | no deploy-time limit | — |',
    ]);
  });

  it('shows the idle cost of each tenant with its items, and the price sources', () => {
    expect(section).toContain('### Idle cost per tenant (USD a month)');
    expect(mdTableRows(section, 'tenant | plan | isolation')).toEqual([
      '| acme | standard | silo (own stack) | 1.40 | KMS key: 1 × 1.00 = 1.00<br>CloudWatch alarms: 4 × 0.10 = 0.40 |',
      // A report written before pooling has no isolation.
      '| globex | premium | — | 2.0000004 | KMS key: 2 × 1.00 = 2.00<br>Lambda requests: 2 × 0.0000002 = 0.0000004 |',
    ]);
    expect(section).toContain('- [aws.amazon.com/kms/pricing/](https://aws.amazon.com/kms/pricing/), read 2025-06-01');
    expect(section).toContain(
      '- [aws.amazon.com/cloudwatch/pricing/](https://aws.amazon.com/cloudwatch/pricing/), read 2025-06-01',
    );
  });

  it('says what to do about a crossed or near limit that Service Quotas does not raise, and nothing while it has room', () => {
    const near = mdSection(
      renderComplianceMarkdown(reportOf({ S: {} }, { capacity: { ...CAPACITY, quotas: [NEAR_QUOTA] } })),
      'Capacity',
    );
    expect(mdTableRows(near, 'quota')[0]).toContain(`| near<br>${NEAR_QUOTA.remedy} |`);
    const crossed = { ...NEAR_QUOTA, used: 501, headroom: -1, crossed: true, pushedOverBy: ['t-501'] };
    const over = mdSection(
      renderComplianceMarkdown(reportOf({ S: {} }, { capacity: { ...CAPACITY, quotas: [crossed] } })),
      'Capacity',
    );
    expect(mdTableRows(over, 'quota')[0]).toContain(`| **yes**<br>${NEAR_QUOTA.remedy} | t-501 |`);
    const roomy = { ...NEAR_QUOTA, used: 10, headroom: 490 };
    const room = mdSection(
      renderComplianceMarkdown(reportOf({ S: {} }, { capacity: { ...CAPACITY, quotas: [roomy] } })),
      'Capacity',
    );
    expect(mdTableRows(room, 'quota')[0]).toContain('| 490 | no | — |');
    expect(room.join('\n')).not.toContain('poolCells');
  });

  it('warns when the capacity figures count only some tenant files', () => {
    const partial = renderComplianceMarkdown(reportOf({ S: {} }, { capacity: { ...CAPACITY, partial: true } }));
    expect(mdSection(partial, 'Capacity')).toContain(
      "> **Partial capacity figures.** Only some tenant files were read: the use below is not the fleet's.",
    );
    expect(section.join('\n')).not.toContain('Partial capacity figures');
  });
});

describe('renderComplianceMarkdown: silo and pooled models', () => {
  const capacity = modelledCapacity();
  const { silo, pool } = capacity.models!;
  const section = mdSection(renderComplianceMarkdown(reportOf({ S: {} }, { capacity })), 'Capacity');
  const rows = mdTableRows(section, 'figure | silo');
  /** The silo and pooled cells of the row whose label starts with `label`. */
  const row = (label: string): [string, string] => {
    const found = rows.filter((r) => r.startsWith(`| ${label}`));
    expect(found).toHaveLength(1);
    const cells = found[0]!.slice(2, -2).split(' | ');
    expect(cells).toHaveLength(3);
    return [cells[1]!, cells[2]!];
  };
  const n = (x: number) => x.toLocaleString('en-US');
  const quota = (id: string) => capacity.quotas.find((q) => q.id === id)!;
  const boundBy = (id: string) =>
    `bound by ${quota(id).name} \`${id}\`<br>[${new URL(quota(id).source.url).host}](${quota(id).source.url}), read ${quota(id).source.readOn}`;

  it('is not there for a report without the models', () => {
    const without: CapacityReport = { ...capacity, models: undefined };
    const md = renderComplianceMarkdown(reportOf({ S: {} }, { capacity: without }));
    expect(md).not.toContain('### Silo and pooled tenants');
    expect(md).not.toContain('### Pool cells');
    expect(section).toContain('### Silo and pooled tenants');
  });

  it('shows the tenants a region takes at the defaults and at best, and an account, with the quota that binds each and its page', () => {
    expect(row('tenants per region, AWS defaults')).toEqual([
      `${n(silo.fit.perRegion)}<br>${boundBy(silo.fit.perRegionCeiling)}`,
      `${n(pool.fit.perRegion)} (${n(pool.cellsFit.perRegion)} cells of ${n(pool.tenantsPerCell)})<br>${boundBy(pool.fit.perRegionCeiling)}`,
    ]);
    expect(row('tenants per region at best')).toEqual([
      `${n(silo.fit.perRegionAtBest)}<br>${boundBy(silo.fit.perRegionAtBestCeiling)}`,
      `${n(pool.fit.perRegionAtBest)} (${n(pool.cellsFit.perRegionAtBest)} cells of ${n(pool.tenantsPerCell)})<br>${boundBy(pool.fit.perRegionAtBestCeiling)}`,
    ]);
    expect(row('tenants per account')).toEqual([
      `${n(silo.fit.perAccount)}<br>${boundBy(silo.fit.perAccountCeiling)}`,
      `${n(pool.fit.perAccount)} (${n(pool.cellsFit.perAccount)} cells of ${n(pool.tenantsPerCell)})<br>${boundBy(pool.fit.perAccountCeiling)}`,
    ]);
    expect(row('tenants in the fleet')).toEqual(['1', '1']);
  });

  it('shows what one tenant of each model adds: resources, API keys and usage plans, each against its quota', () => {
    expect(row('CloudFormation resources per tenant')).toEqual([n(silo.resourcesPerTenant), '0']);
    expect(row('API Gateway API keys per tenant')).toEqual([n(silo.apiKeysPerTenant), '0']);
    expect(row('API Gateway usage plans per tenant')).toEqual([n(silo.usagePlansPerTenant), '0']);
    expect(silo.resourcesPerTenant).toBeGreaterThan(0);
    const label = rows.find((r) => r.startsWith('| API Gateway API keys per tenant'))!;
    expect(label).toContain(`against ${quota('apigateway.apiKeys').name} \`apigateway.apiKeys\`: 10,000 (AWS default)`);
  });

  it('shows the idle cost of a tenant of each model with its items, and the cell’s fixed cost per place', () => {
    const [s, p] = row('idle cost per tenant (USD a month)');
    expect(s.startsWith(`${money(silo.idleMonthlyUsdPerTenant)}<br>`)).toBe(true);
    expect(p.startsWith(`${money(pool.idleMonthlyUsdPerTenant)}<br>Registry storage`)).toBe(true);
    expect(s).toContain(`CloudWatch dashboard: 1 × ${money(3)} = ${money(3)}`);
    expect(row('fixed cost of shared infrastructure per tenant place')[1]).toBe(
      `${money(pool.fixedCostPerPlaceUsd)} (a cell’s ${money(pool.cellFixedMonthlyUsd)} over its ${n(pool.tenantsPerCell)} places)`,
    );
  });

  it('shows how many pooled tenants can be at their full rate at once, and what stops them', () => {
    const [, p] = row('tenants at their full rate at once');
    expect(p).toContain(`${n(pool.atFullRate.tenantsByConcurrency)}, ${boundBy('lambda.concurrentExecutions')}`);
    expect(p).toContain(`${n(pool.atFullRate.tenantsByApiThrottle)}, ${boundBy('apigateway.accountThrottleRps')}`);
  });

  it('lists the limits of a pool cell with the one that binds, and what an idle cell costs', () => {
    const limits = mdTableRows(section, 'cell limit');
    expect(limits).toHaveLength(pool.cellLimits.length);
    const binding = limits.filter((r) => r.includes('| **yes** |'));
    expect(binding).toHaveLength(1);
    expect(binding[0]).toContain(`\`${pool.bindingCellLimit}\` | ${n(pool.tenantsPerCell)} | **yes** |`);
    // A limit read from Switchboard's code links the file from the report's folder.
    expect(limits.join('\n')).toContain(
      '[`lambda/shared/tenant-credentials.ts`](../lambda/shared/tenant-credentials.ts)',
    );
    expect(section).toContain(`### Cost of an idle pool cell (USD a month)`);
    expect(section).toContain(
      `${money(pool.cellFixedMonthlyUsd)} a cell, ${money(pool.fixedCostPerPlaceUsd)} per place (${n(pool.tenantsPerCell)} places), whether or not its tenants send requests:`,
    );
    for (const i of pool.cellFixedItems) expect(section.join('\n')).toContain(`- ${i.item}: `);
  });
});
