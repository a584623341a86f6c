/**
 * The building blocks of the report document: sections of headings, paragraphs, lists and tables of plain
 * runs (text, code, links). Format-neutral; `render-markdown.ts` and `render-html.ts` write them, each
 * escaping in one place.
 */

/** A run of text inside a paragraph or a table cell. */
export type Inline =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'strong'; readonly text: string }
  /** A rule id, construct path or file name: shown verbatim. */
  | { readonly kind: 'code'; readonly text: string }
  | { readonly kind: 'link'; readonly text: string; readonly href: string; readonly code?: boolean }
  | { readonly kind: 'break' };

/** The content of a paragraph or a table cell. */
export type Inlines = readonly Inline[];

/** A table row. */
export interface TableRow {
  readonly cells: readonly Inlines[];
  /** Something a reviewer must act on (a crossed quota): highlighted. */
  readonly alert?: boolean;
}

/** A block of a section: a sub-heading, a paragraph, a warning, a table or a bulleted list. */
export type Block =
  | { readonly kind: 'heading'; readonly text: string }
  | { readonly kind: 'paragraph'; readonly content: Inlines }
  | { readonly kind: 'warning'; readonly content: Inlines }
  | {
      readonly kind: 'table';
      readonly head: readonly Inlines[];
      /** Indexes of the columns holding numbers (right-aligned). */
      readonly numeric?: readonly number[];
      readonly rows: readonly TableRow[];
    }
  | { readonly kind: 'list'; readonly items: readonly Inlines[] };

/** A top-level section, with an anchor unique in the document (the HTML table of contents links it). */
export interface Section {
  readonly title: string;
  readonly anchor: string;
  readonly blocks: readonly Block[];
}

/** The whole report: a title, an introduction and the sections (each a table-of-contents entry). */
export interface ReportDocument {
  readonly title: string;
  /** Shown before the first section. */
  readonly intro: readonly Block[];
  readonly sections: readonly Section[];
}

/**
 * Paths in this repository are linked relative to the report's folder: `cdk.out/` at the repository root
 * (`cdk synth` without `-o`).
 */
export const REPORT_DIR_TO_REPO = '..';

/** Plain text. */
export const text = (t: string): Inline => ({ kind: 'text', text: t });
/** Text a reader must not miss (a total, a crossed quota). */
export const strong = (t: string): Inline => ({ kind: 'strong', text: t });
/** Verbatim text: a rule id, a construct path, a file name. */
export const code = (t: string): Inline => ({ kind: 'code', text: t });
/** A line break inside a table cell. */
export const BREAK: Inline = { kind: 'break' };

/**
 * A link, or plain text when `href` is neither http(s), an in-document anchor nor a relative path: links
 * come from data (the capacity model's sources), and a `javascript:` or `data:` link must not become live.
 */
export function link(label: string, href: string, asCode = false): Inline {
  const safe = /^https?:\/\//i.test(href) || href.startsWith('#') || !/^[^/?#]*:/.test(href);
  if (!safe) return asCode ? code(label) : text(label);
  return { kind: 'link', text: label, href, code: asCode };
}

/** `items` separated by `sep` (one inline list). */
export function joined(items: readonly Inlines[], sep: Inline): Inline[] {
  return items.flatMap((item, i) => (i === 0 ? [...item] : [sep, ...item]));
}
