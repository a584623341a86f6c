/**
 * Writes the compliance report as Markdown (GitHub-flavoured tables), readable as plain text too. Text is
 * escaped so a reason or a construct path cannot open a table cell, emphasis, a link or raw HTML; rule ids
 * and construct paths are code spans, shown verbatim.
 */

import type { Block, Inline, Inlines } from './document-model';
import type { ComplianceReport } from './report';
import { complianceDocument } from './report-document';

/** Backslash-escapes what Markdown would read as markup (CommonMark escapes any ASCII punctuation). */
function mdText(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\\`*_[\]<>&|~]/g, '\\$&');
}

/** A code span whose fence is longer than any backtick run inside; pipes escaped inside tables (GFM). */
function mdCode(s: string, inTable: boolean): string {
  let body = s.replace(/\s*[\r\n]+\s*/g, ' ');
  if (inTable) body = body.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

/** A link destination with what would end it early percent-encoded. */
const mdHref = (href: string) =>
  href.replace(/[ ()<>|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

function mdRun(i: Inline, inTable: boolean): string {
  switch (i.kind) {
    case 'text':
      return mdText(i.text);
    case 'strong':
      return `**${mdText(i.text)}**`;
    case 'code':
      return mdCode(i.text, inTable);
    case 'link':
      // A URL shown as itself: an autolink, so plain-text readers do not see it twice.
      if (!i.code && i.text === i.href && /^https?:\/\/[^\s<>|]*$/i.test(i.href)) return `<${i.href}>`;
      return `[${i.code ? mdCode(i.text, inTable) : mdText(i.text)}](${mdHref(i.href)})`;
    case 'break':
      return inTable ? '<br>' : '  \n';
  }
}

const mdInline = (content: Inlines, inTable: boolean) => content.map((i) => mdRun(i, inTable)).join('');

function mdBlock(b: Block): string[] {
  switch (b.kind) {
    case 'heading':
      return [`### ${mdText(b.text)}`];
    case 'paragraph':
      return [mdInline(b.content, false)];
    case 'warning':
      return [`> ${mdInline(b.content, false)}`];
    case 'list':
      return b.items.map((item) => `- ${mdInline(item, false)}`);
    case 'table': {
      const row = (cells: readonly Inlines[]) => `| ${cells.map((c) => mdInline(c, true)).join(' | ')} |`;
      const rule = b.head.map((_, i) => (b.numeric?.includes(i) ? '---:' : '---'));
      return [row(b.head), `|${rule.join('|')}|`, ...b.rows.map((r) => row(r.cells))];
    }
  }
}

/** The report as Markdown for a security reviewer. */
export function renderComplianceMarkdown(report: ComplianceReport): string {
  const doc = complianceDocument(report);
  const out: string[] = [`# ${mdText(doc.title)}`];
  for (const b of doc.intro) out.push('', ...mdBlock(b));
  for (const s of doc.sections) {
    out.push('', `## ${mdText(s.title)}`);
    for (const b of s.blocks) out.push('', ...mdBlock(b));
  }
  return `${out.join('\n')}\n`;
}
