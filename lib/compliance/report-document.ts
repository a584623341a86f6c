/**
 * The compliance report as a reviewer reads it, independent of the file format: sections of headings,
 * paragraphs and tables of plain runs (text, code, links). Built once from a {@link ComplianceReport} and
 * written as Markdown and as HTML, so both files show the same content and each escapes in one place.
 *
 * What it shows: per pack the number of rules checked with a link to the pack's rule documentation (the
 * full rule lists stay in the JSON), unacknowledged findings, acknowledgements grouped by reason, per stack
 * and fleet-wide, the tenant isolation matrix and the capacity model's report when there are.
 */
import { acknowledgementsOfStack, fleetAcknowledgementsByReason, groupByReason } from './acknowledgement-groups';
import { capacitySection } from './capacity-section';
import {
  type Block,
  BREAK,
  code,
  type Inline,
  joined,
  link,
  REPORT_DIR_TO_REPO,
  type ReportDocument,
  type Section,
  strong,
  text,
} from './document-model';
import { isolationSection } from './isolation-section';
import type { ComplianceReport, StackResult } from './report';

/** The link to a pack's rule documentation (a URL, or a source file of this repository). */
function packDocsLink(report: ComplianceReport, pack: string): Inline {
  const docs = report.packDocs[pack];
  if (!docs) return text('not linked');
  return /^https?:\/\//i.test(docs) ? link(docs, docs) : link(docs, `${REPORT_DIR_TO_REPO}/${docs}`, true);
}

/** A GitHub-style heading slug, so Markdown viewers' own anchors match the HTML ones. */
function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** Hands out anchors unique in one document (`summary`, then `summary-1` for a stack named "Summary"). */
function anchorMaker(): (title: string) => string {
  const used = new Set<string>();
  return (title) => {
    const base = slug(title) || 'section';
    let anchor = base;
    for (let i = 1; used.has(anchor); i++) anchor = `${base}-${i}`;
    used.add(anchor);
    return anchor;
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function rulesCheckedCell(report: ComplianceReport, pack: string): string {
  const counts = [
    ...new Set(report.stacks.map((s) => s.packs.find((p) => p.pack === pack)?.rulesChecked.length ?? 0)),
  ].sort((a, b) => a - b);
  if (counts.length === 0) return '0';
  return counts.length === 1 ? String(counts[0]) : `${counts[0]}–${counts.at(-1)} (per stack: see Summary)`;
}

function stackSection(s: StackResult, anchor: string): Section {
  const blocks: Block[] = [];
  blocks.push({
    kind: 'paragraph',
    content: [
      text('Resources: '),
      strong(String(s.resources)),
      text('. Rules checked: '),
      ...joined(
        s.packs.map((p) => [text(`${p.pack} ${p.rulesChecked.length}`)]),
        text(', '),
      ),
      text(' (documentation: '),
      link('Packs', '#packs'),
      text(').'),
    ],
  });
  const findings = s.packs.flatMap((p) => p.findings);
  if (findings.length === 0) {
    blocks.push({ kind: 'paragraph', content: [text('Unacknowledged findings: none.')] });
  } else {
    const count = findings.reduce((n, f) => n + f.resources.length, 0);
    blocks.push({ kind: 'heading', text: `Unacknowledged findings: ${count}` });
    blocks.push({
      kind: 'table',
      head: [[text('rule')], [text('severity')], [text('resources')], [text('description')]],
      rows: findings.map((f) => ({
        cells: [
          [code(f.ruleId)],
          [text(f.severity)],
          joined(
            f.resources.map((r) => [code(r)]),
            BREAK,
          ),
          [text(f.description)],
        ],
        alert: true,
      })),
    });
  }
  const acknowledged = acknowledgementsOfStack(s);
  const groups = groupByReason(acknowledged);
  if (groups.length === 0) {
    blocks.push({ kind: 'paragraph', content: [text('Acknowledged findings: none.')] });
  } else {
    blocks.push({
      kind: 'heading',
      text: `Acknowledged findings: ${acknowledged.length}, for ${plural(groups.length, 'reason')}`,
    });
    blocks.push({
      kind: 'table',
      head: [[text('reason')], [text('rules')], [text('resources')]],
      rows: groups.map((g) => ({
        cells: [
          [text(g.reason)],
          joined(
            g.rules.map((r) => [code(r)]),
            BREAK,
          ),
          joined(
            g.resources.map((r) => [
              code(r.resource),
              ...r.acknowledgedOn.flatMap((on) => [text(' acknowledged on '), code(on)]),
              ...(r.rules.length === g.rules.length
                ? []
                : [
                    text(' (only '),
                    ...joined(
                      r.rules.map((id) => [code(id)]),
                      text(', '),
                    ),
                    text(')'),
                  ]),
            ]),
            BREAK,
          ),
        ],
      })),
    });
  }
  return { title: s.stack, anchor, blocks };
}

/** The report as sections of headings, paragraphs and tables. */
export function complianceDocument(report: ComplianceReport): ReportDocument {
  const anchor = anchorMaker();
  const fleet = fleetAcknowledgementsByReason(report);
  const intro: Block[] = [];
  if (report.partial) {
    const only = report.partial.only;
    intro.push({
      kind: 'warning',
      content: [
        strong('Warning: partial report.'),
        text(` A single-tenant synth (`),
        code(`-c tenant=${only}`),
        text(
          `) wrote it, over any fleet report in this folder: it covers tenant ${only} and the platform stack only. `,
        ),
        text('The fleet report needs a full '),
        code('cdk synth'),
        text('.'),
      ],
    });
  }
  intro.push(
    {
      kind: 'paragraph',
      content: [
        text(`Packs: ${report.packs.join(', ')}. Unacknowledged findings: `),
        strong(String(report.totals.findings)),
        text('. Acknowledged findings: '),
        strong(String(report.totals.acknowledged)),
        text(`, for ${plural(fleet.length, 'reason')}.`),
      ],
    },
    {
      kind: 'paragraph',
      content: [
        text('Every acknowledgement is scoped to the resource it names (or the construct whose '),
        code('Resource'),
        text(
          ' it is) and its children only; where it was made on a wider construct, the resource says ' +
            '"acknowledged on". The rules each pack checked are listed in ',
        ),
        code('compliance-report.json'),
        text('.'),
      ],
    },
  );
  const stackAnchors = new Map<string, string>();
  const sections: Section[] = [];
  sections.push({
    title: 'Packs',
    anchor: anchor('Packs'),
    blocks: [
      {
        kind: 'table',
        head: [[text('pack')], [text('rules checked')], [text('rule documentation')]],
        numeric: [1],
        rows: report.packs.map((p) => ({
          cells: [[text(p)], [text(rulesCheckedCell(report, p))], [packDocsLink(report, p)]],
        })),
      },
    ],
  });
  const summaryAnchor = anchor('Summary');
  for (const s of report.stacks) stackAnchors.set(s.stack, anchor(s.stack));
  const stackLink = (name: string): Inline => {
    const a = stackAnchors.get(name);
    return a ? link(name, `#${a}`) : text(name);
  };
  sections.push({
    title: 'Summary',
    anchor: summaryAnchor,
    blocks: [
      {
        kind: 'table',
        head: [
          [text('stack')],
          [text('resources')],
          ...report.packs.map((p) => [text(`${p} (checked / findings / acknowledged)`)]),
        ],
        numeric: [1],
        rows: report.stacks.map((s) => ({
          cells: [
            [stackLink(s.stack)],
            [text(String(s.resources))],
            ...report.packs.map((name) => {
              const p = s.packs.find((x) => x.pack === name);
              return [
                text(p ? `${p.rulesChecked.length} / ${p.findings.length} / ${p.acknowledged.length}` : 'not run'),
              ];
            }),
          ],
          alert: s.packs.some((p) => p.findings.length > 0),
        })),
      },
    ],
  });
  sections.push({
    title: 'Acknowledgements by reason',
    anchor: anchor('Acknowledgements by reason'),
    blocks: fleet.length
      ? [
          {
            kind: 'table',
            head: [[text('reason')], [text('rules')], [text('findings')], [text('stacks')]],
            numeric: [2],
            rows: fleet.map((g) => ({
              cells: [
                [text(g.reason)],
                joined(
                  g.rules.map((r) => [code(r)]),
                  BREAK,
                ),
                [text(String(g.findings))],
                joined(
                  g.stacks.map((st) => [stackLink(st)]),
                  BREAK,
                ),
              ],
            })),
          },
        ]
      : [{ kind: 'paragraph', content: [text('None.')] }],
  });
  if (report.isolation) sections.push(isolationSection(report.isolation, anchor('Tenant isolation')));
  if (report.capacity) sections.push(capacitySection(report.capacity, anchor('Capacity')));
  for (const s of report.stacks) sections.push(stackSection(s, stackAnchors.get(s.stack)!));
  return { title: report.title, intro, sections };
}
