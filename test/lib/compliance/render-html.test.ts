import { escapeHtml, renderComplianceHtml } from '../../../lib/compliance/render-html';
import type { ComplianceReport } from '../../../lib/compliance/report';
import { ack, CAPACITY, modelledCapacity, NEAR_QUOTA, reportOf } from './report-fixtures';

const REASON = 'Test fixture: this finding is accepted here to check how acknowledgements are grouped.';

/** Tags in document order, with void elements left out; throws when one closes out of order. */
function assertBalanced(html: string): void {
  const open: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>/g)) {
    const [, closing, tag] = m;
    if (['meta', 'br'].includes(tag!.toLowerCase())) continue;
    if (!closing) open.push(tag!);
    else if (open.pop() !== tag) throw new Error(`</${tag}> closes out of order at ${m.index}`);
  }
  expect(open).toEqual([]);
}

/** The rows of the `<section id="…">` of the page. */
function sectionOf(html: string, anchor: string): string {
  const start = html.indexOf(`<section id="${anchor}">`);
  if (start < 0) throw new Error(`no section ${anchor}`);
  return html.slice(start, html.indexOf('</section>', start));
}

describe('escapeHtml', () => {
  it('escapes the five characters that can open markup or end an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });
});

describe('renderComplianceHtml', () => {
  it('shows a reason containing <script> as text, as every other string of the report', () => {
    const evil = `<script>alert("x")</script> & 'quoted'`;
    const report = reportOf(
      {
        [`Stack${evil}`]: {
          acknowledged: [ack('AwsSolutions-RuleA', `S/${evil}`, `${REASON} ${evil}`)],
          findings: [
            { ruleId: `AwsSolutions-${evil}`, severity: 'error', description: evil, resources: [`S/${evil}/R`] },
          ],
        },
      },
      { partial: { only: evil } },
    );
    const html = renderComplianceHtml(report);
    expect(html).not.toContain('<script');
    expect(html).not.toContain(evil);
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;';
    // Title (twice), warning, stack (TOC, summary, heading), reason (stack and fleet tables), rule id, path,
    // finding resource and description.
    expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(12);
    expect(html).toContain(`<td>${escapeHtml(`${REASON} ${evil}`)}</td>`);
    assertBalanced(html);
  });

  it('is self-contained: inline style only, no script, no external asset, links to documentation and anchors only', () => {
    const html = renderComplianceHtml(reportOf({ A: { acknowledged: [ack('AwsSolutions-RuleA', 'A/X', REASON)] } }));
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(html).toMatch(/<style>[\s\S]+<\/style>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|url\(|@import/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.filter((h) => !/^(#|\.\.\/lib\/|https:\/\/github\.com\/cdklabs\/cdk-nag\/)/.test(h))).toEqual([]);
    assertBalanced(html);
  });

  it('has a table of contents and one section per stack, each with its heading', () => {
    const html = renderComplianceHtml(reportOf({ Alpha: {}, Beta: {} }));
    const nav = html.slice(html.indexOf('<nav'), html.indexOf('</nav>'));
    for (const [anchor, title] of [
      ['packs', 'Packs'],
      ['summary', 'Summary'],
      ['acknowledgements-by-reason', 'Acknowledgements by reason'],
      ['alpha', 'Alpha'],
      ['beta', 'Beta'],
    ]) {
      expect(nav).toContain(`<li><a href="#${anchor}">${title}</a></li>`);
      expect(html).toContain(`<section id="${anchor}">\n<h2>${title}</h2>`);
    }
    // The summary links each stack to its section.
    expect(sectionOf(html, 'summary')).toContain('<td><a href="#beta">Beta</a></td>');
  });

  it('keeps anchors unique when a stack is named like a section', () => {
    const html = renderComplianceHtml(reportOf({ Summary: {} }));
    expect(html).toContain('<section id="summary">\n<h2>Summary</h2>');
    expect(html).toContain('<section id="summary-1">\n<h2>Summary</h2>');
    expect(html).toContain('<li><a href="#summary-1">Summary</a></li>');
  });

  it('shows the same content as the Markdown: grouped acknowledgements and rule counts with their links', () => {
    const report: ComplianceReport = reportOf({
      S: { acknowledged: [ack('AwsSolutions-RuleA', 'S/One', REASON), ack('HIPAA.Security-RuleA', 'S/Two', REASON)] },
    });
    const html = renderComplianceHtml(report);
    expect(sectionOf(html, 's')).toContain(
      `<tr><td>${REASON}</td><td><code>AwsSolutions-RuleA</code><br><code>HIPAA.Security-RuleA</code></td>` +
        '<td><code>S/One/Resource</code> (only <code>AwsSolutions-RuleA</code>)<br>' +
        '<code>S/Two/Resource</code> (only <code>HIPAA.Security-RuleA</code>)</td></tr>',
    );
    expect(sectionOf(html, 'acknowledgements-by-reason')).toContain(
      `<td class="num">2</td><td><a href="#s">S</a></td>`,
    );
    const packs = sectionOf(html, 'packs');
    expect(packs).toContain(
      '<tr><td>AwsSolutions</td><td class="num">2</td><td><a href="https://github.com/cdklabs/cdk-nag/blob/main/RULES.md#awssolutions">',
    );
    expect(packs).toContain(
      '<a href="../lib/compliance/switchboard-checks.ts"><code>lib/compliance/switchboard-checks.ts</code></a>',
    );
    expect(html).not.toMatch(/RuleB/); // checked but neither found nor acknowledged: only counted
  });

  it('highlights the stack of an unacknowledged finding and lists the finding', () => {
    const html = renderComplianceHtml(
      reportOf({
        S: {
          findings: [{ ruleId: 'AwsSolutions-RuleA', severity: 'warning', description: 'Bad.', resources: ['S/A'] }],
        },
      }),
    );
    expect(sectionOf(html, 'summary')).toContain('<tr class="alert"><td><a href="#s">S</a></td>');
    expect(sectionOf(html, 's')).toContain(
      '<tr class="alert"><td><code>AwsSolutions-RuleA</code></td><td>warning</td><td><code>S/A</code></td><td>Bad.</td></tr>',
    );
  });

  it('marks a partial report in the title and with a warning', () => {
    const html = renderComplianceHtml(reportOf({ S: {} }, { partial: { only: 'acme' } }));
    const title = 'Switchboard compliance report (partial: tenant acme and the platform stack only)';
    expect(html).toContain(`<title>${title}</title>`);
    expect(html).toContain(`<h1>${title}</h1>`);
    expect(html).toMatch(
      /<p class="warning" role="note"><strong>Warning: partial report\.<\/strong>.*The fleet report needs a full <code>cdk synth<\/code>\.<\/p>/,
    );
  });
});

describe('renderComplianceHtml: capacity section', () => {
  const html = renderComplianceHtml(reportOf({ S: {} }, { capacity: CAPACITY }));

  it('is a section of its own in the table of contents, with the quota, plan and idle cost tables', () => {
    expect(html).toContain('<li><a href="#capacity">Capacity</a></li>');
    const section = sectionOf(html, 'capacity');
    for (const h of [
      'Quotas',
      'Tenants that still fit per plan',
      'Idle cost per tenant (USD a month)',
      'Price sources',
    ]) {
      expect(section).toContain(`<h3>${h}</h3>`);
    }
    expect(section).toContain('<tr><td>basic</td><td class="num">no deploy-time limit</td><td>—</td></tr>');
    expect(section).toContain(
      '<tr><td>acme</td><td>standard</td><td>silo (own stack)</td><td class="num">1.40</td><td>KMS key: 1 × 1.00 = 1.00<br>CloudWatch alarms: 4 × 0.10 = 0.40</td></tr>',
    );
    expect(section).toContain(
      '<li><a href="https://aws.amazon.com/kms/pricing/">aws.amazon.com/kms/pricing/</a>, read 2025-06-01</li>',
    );
  });

  it('highlights a crossed quota and names the tenants that pushed it over', () => {
    const rows = sectionOf(html, 'capacity')
      .split('\n')
      .filter((l) => l.includes('<td>Lambda</td>'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(
      /^<tr class="alert"><td>Concurrent executions<br><code>lambda\.concurrentExecutions<\/code><\/td>/,
    );
    expect(rows[0]).toContain(
      '<td class="num">1200</td><td class="num">1000</td><td>cdk.json</td><td class="num">-200</td><td><strong>yes</strong></td><td>globex, initech</td>',
    );
    expect(html).toMatch(/<tr><td>Regional APIs per account per Region<br>.*<td>no<\/td><td>—<\/td>/);
    // A plan with no room left is highlighted too.
    expect(html).toContain('<tr class="alert"><td>premium</td><td class="num">0</td>');
  });

  it('links only http(s) sources: another scheme from the data is shown as text', () => {
    const [q] = CAPACITY.quotas;
    const capacity = { ...CAPACITY, quotas: [{ ...q!, source: { url: 'javascript:alert(1)', readOn: '2025-06-02' } }] };
    const page = renderComplianceHtml(reportOf({ S: {} }, { capacity }));
    expect(page).not.toContain('href="javascript:');
    expect(page).toContain('<td>javascript:alert(1), read 2025-06-02</td>');
    assertBalanced(page);
  });
});

describe('renderComplianceHtml: silo and pooled models', () => {
  const capacity = modelledCapacity();
  const { silo, pool } = capacity.models!;
  const section = sectionOf(renderComplianceHtml(reportOf({ S: {} }, { capacity })), 'capacity');
  const n = (x: number) => x.toLocaleString('en-US');

  it('has the models table and the pool cells, as the Markdown does', () => {
    for (const h of ['Silo and pooled tenants', 'Pool cells', 'Cost of an idle pool cell (USD a month)']) {
      expect(section).toContain(`<h3>${h}</h3>`);
    }
    expect(section).toContain(
      `<tr><td>tenants per region, AWS defaults (and the values raised in cdk.json)</td><td>${n(silo.fit.perRegion)}<br>bound by `,
    );
    expect(section).toContain(
      `<td>${n(pool.fit.perRegion)} (${n(pool.cellsFit.perRegion)} cells of ${n(pool.tenantsPerCell)})<br>bound by `,
    );
    expect(section).toMatch(/<tr><td>CloudFormation resources per tenant<br>.*<\/td><td>\d+<\/td><td>0<\/td><\/tr>/);
    // The cell's binding limit, its number of tenants right-aligned.
    expect(section).toContain(
      `<code>${pool.bindingCellLimit}</code></td><td class="num">${n(pool.tenantsPerCell)}</td><td><strong>yes</strong></td>`,
    );
    assertBalanced(`${section}</section>`);
  });

  it('shows the remedy of a near limit in its row', () => {
    const page = renderComplianceHtml(reportOf({ S: {} }, { capacity: { ...CAPACITY, quotas: [NEAR_QUOTA] } }));
    expect(page).toContain(`<td>near<br>${NEAR_QUOTA.remedy!.replace(/"/g, '&quot;')}</td>`);
  });
});
