import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { acknowledge } from '../../../lib/compliance/acknowledge';
import { renderComplianceMarkdown } from '../../../lib/compliance/render-markdown';
import { buildComplianceReport } from '../../../lib/compliance/report';
import { ack, CAPACITY, mdSection, mdTableRows, reportOf } from './report-fixtures';

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
    expect(mdTableRows(section, 'tenant')).toEqual([
      '| acme | standard | 1.40 | KMS key: 1 × 1.00 = 1.00<br>CloudWatch alarms: 4 × 0.10 = 0.40 |',
      '| globex | premium | 2.0000004 | KMS key: 2 × 1.00 = 2.00<br>Lambda requests: 2 × 0.0000002 = 0.0000004 |',
    ]);
    expect(section).toContain('- [aws.amazon.com/kms/pricing/](https://aws.amazon.com/kms/pricing/), read 2025-06-01');
    expect(section).toContain(
      '- [aws.amazon.com/cloudwatch/pricing/](https://aws.amazon.com/cloudwatch/pricing/), read 2025-06-01',
    );
  });

  it('warns when the capacity figures count only some tenant files', () => {
    const partial = renderComplianceMarkdown(reportOf({ S: {} }, { capacity: { ...CAPACITY, partial: true } }));
    expect(mdSection(partial, 'Capacity')).toContain(
      "> **Partial capacity figures.** Only some tenant files were read: the use below is not the fleet's.",
    );
    expect(section.join('\n')).not.toContain('Partial capacity figures');
  });
});
