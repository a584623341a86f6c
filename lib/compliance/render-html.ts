/**
 * Writes the compliance report as one self-contained HTML page: inline CSS, no scripts, no external assets
 * (a Content-Security-Policy says so to the browser too), a table of contents and one section per stack.
 * Same content as the Markdown (both are written from one report document). Every string from the report is
 * escaped: reasons, construct paths and rule ids are text, never markup.
 */

import type { Block, Inline, Inlines } from './document-model';
import type { ComplianceReport } from './report';
import { complianceDocument } from './report-document';

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes `& < > " '`: safe in element content and in quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;max-width:90rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}
tr.alert td{background:#fde8e8}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.warning{border-left:4px solid #b00;background:#fff2f2;padding:.5rem .75rem}
section{margin-top:2rem}
@media print{nav{display:none}tr{break-inside:avoid}}
`.trim();

function htmlRun(i: Inline): string {
  switch (i.kind) {
    case 'text':
      return escapeHtml(i.text);
    case 'strong':
      return `<strong>${escapeHtml(i.text)}</strong>`;
    case 'code':
      return `<code>${escapeHtml(i.text)}</code>`;
    case 'link': {
      const label = i.code ? `<code>${escapeHtml(i.text)}</code>` : escapeHtml(i.text);
      return `<a href="${escapeHtml(i.href)}">${label}</a>`;
    }
    case 'break':
      return '<br>';
  }
}

const htmlInline = (content: Inlines) => content.map(htmlRun).join('');

function htmlBlock(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `<h3>${escapeHtml(b.text)}</h3>`;
    case 'paragraph':
      return `<p>${htmlInline(b.content)}</p>`;
    case 'warning':
      return `<p class="warning" role="note">${htmlInline(b.content)}</p>`;
    case 'list':
      return `<ul>\n${b.items.map((item) => `<li>${htmlInline(item)}</li>`).join('\n')}\n</ul>`;
    case 'table': {
      const cls = (col: number) => (b.numeric?.includes(col) ? ' class="num"' : '');
      const head = b.head.map((c, col) => `<th${cls(col)}>${htmlInline(c)}</th>`).join('');
      const rows = b.rows.map(
        (r) =>
          `<tr${r.alert ? ' class="alert"' : ''}>${r.cells.map((c, col) => `<td${cls(col)}>${htmlInline(c)}</td>`).join('')}</tr>`,
      );
      return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
    }
  }
}

/** The report as a self-contained HTML page for a security reviewer. */
export function renderComplianceHtml(report: ComplianceReport): string {
  const doc = complianceDocument(report);
  const title = escapeHtml(doc.title);
  const toc = doc.sections.map((s) => `<li><a href="#${escapeHtml(s.anchor)}">${escapeHtml(s.title)}</a></li>`);
  const sections = doc.sections.map(
    (s) =>
      `<section id="${escapeHtml(s.anchor)}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.blocks.map(htmlBlock).join('\n')}\n</section>`,
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing but the inline style may load or run, whatever the report contains.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${title}</h1>`,
    ...doc.intro.map(htmlBlock),
    `<nav aria-label="Contents">\n<h2>Contents</h2>\n<ol>\n${toc.join('\n')}\n</ol>\n</nav>`,
    ...sections,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
