/**
 * Loads tenant files from a folder: YAML → schema → plan defaults → cross-field rules. All problems of all
 * files are collected and reported together, one line each: file, field path, value and what is allowed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Document, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import { checkTenantDocument, show } from '../../lambda/shared/tenant-file/tenant-document';
import { type FieldProblem, resolveTenant, type TenantConfig } from './tenant-config';

/** Thrown when one or more tenant files are invalid; `problems` holds one readable line per problem. */
export class TenantConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid tenant configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'TenantConfigError';
  }
}

const EXTENSIONS = ['.yaml', '.yml'];

/**
 * What a folder entry is: a tenant file, a file that is one but for the case of its extension (`acme.YAML`:
 * not read, and said so), or something else (ignored, like hidden files such as editors' `.#acme.yaml` locks).
 */
function kindOf(name: string): 'tenant' | 'miscased' | 'other' {
  if (name.startsWith('.')) return 'other';
  const ext = path.extname(name);
  if (EXTENSIONS.includes(ext)) return 'tenant';
  return EXTENSIONS.includes(ext.toLowerCase()) ? 'miscased' : 'other';
}

/** How many known tenant ids an unknown `-c tenant=` lists before it only counts the rest. */
const KNOWN_TENANTS_SHOWN = 20;

/** The tenant ids of a folder listing (by file name; the files are not read), for an unknown `-c tenant=`. */
function knownTenants(entries: readonly string[]): string {
  const ids = [
    ...new Set(entries.filter((f) => kindOf(f) === 'tenant').map((f) => path.basename(f, path.extname(f)))),
  ].sort();
  if (ids.length === 0) return 'the folder has no tenant files';
  const more = ids.length - KNOWN_TENANTS_SHOWN;
  return `known tenants: ${ids.slice(0, KNOWN_TENANTS_SHOWN).join(', ')}${more > 0 ? ` … and ${more} more` : ''}`;
}

/** The problem of a file whose extension is not lower-case, with the name to give it. */
function miscasedProblem(shown: string, name: string): string {
  const ext = path.extname(name);
  // Tenant ids are lower-case and must equal the file name, so the whole name is lower-cased.
  const rename = `${path.basename(name, ext).toLowerCase()}${ext.toLowerCase()}`;
  return `${shown}: (file): got extension "${ext}"; only files ending in lower-case ${EXTENSIONS.join(' or ')} are read: rename it to ${rename}`;
}

/**
 * Keys repeated within one mapping, in linear time, each as `:<line>:<col>: ...` (the file name goes first).
 * Walks the parsed document without recursion, so nesting depth costs no stack.
 */
function repeatedKeyProblems(doc: Document, lineCounter: LineCounter): string[] {
  const problems: string[] = [];
  const todo: unknown[] = [doc.contents];
  while (todo.length) {
    const node = todo.pop();
    if (isMap(node)) {
      const first = new Map<unknown, number>();
      for (const pair of node.items) {
        todo.push(pair.key, pair.value);
        if (!isScalar(pair.key) || !pair.key.range) continue;
        const start = pair.key.range[0];
        const earlier = first.get(pair.key.value);
        if (earlier === undefined) {
          first.set(pair.key.value, start);
          continue;
        }
        const here = lineCounter.linePos(start);
        problems.push(
          `:${here.line}:${here.col}: YAML syntax error: key ${show(pair.key.value)} is already on line ${lineCounter.linePos(earlier).line}; each key may appear once in a mapping`,
        );
      }
    } else if (isSeq(node)) {
      for (const item of node.items) todo.push(item);
    }
  }
  return problems;
}

/** Parses one tenant file's text. Returns the tenant or the problems (already prefixed with the file). */
export function parseTenantFile(file: string, text: string): { tenant?: TenantConfig; problems: string[] } {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by repeatedKeyProblems: the library's own check compares every key with every
  // other key of its map, which is quadratic (a file with 10,000 tags took seconds).
  // logLevel 'error': what the library would print as a warning (a mapping used as a key) is not for the console.
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter, logLevel: 'error' });
  if (doc.errors.length) {
    return {
      problems: doc.errors.map((e) => {
        const line = lineCounter.linePos(e.pos[0]);
        if (e.code === 'MULTIPLE_DOCS') {
          // The parser's advice (parseAllDocuments) is for programmers; say what the file should look like.
          const found = parseAllDocuments(text);
          const count = Array.isArray(found) ? found.length : 0;
          return `${file}: (file): got ${count} YAML documents (the second starts on line ${line.line}); a tenant file holds exactly one YAML document`;
        }
        const reason = e.message.startsWith('Maximum call stack size exceeded')
          ? 'nested too deeply'
          : e.message.split('\n')[0];
        return `${file}${line ? `:${line.line}:${line.col}` : ''}: YAML syntax error: ${reason}`;
      }),
    };
  }
  const repeated = repeatedKeyProblems(doc, lineCounter);
  if (repeated.length) return { problems: repeated.map((p) => `${file}${p}`) };
  let input: unknown;
  try {
    input = doc.toJS();
  } catch (e) {
    // Aliases are resolved here: one with no anchor, or so many that they expand to a flood of data.
    const message = (e as Error).message.split('\n')[0] ?? '';
    const reason = /alias count/i.test(message)
      ? 'aliases (*name) expand to too much data; write the values out instead'
      : message;
    return { problems: [`${file}: YAML syntax error: ${reason}`] };
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { problems: [`${file}: (file): expected a YAML mapping with at least "id" and "plan"`] };
  }
  const written = (p: readonly PropertyKey[]) => {
    const node = doc.getIn(p, true);
    return isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]).trim() : undefined;
  };
  const checked = checkTenantDocument(input, written);
  if (!checked.file) return { problems: checked.problems.map((p) => `${file}: ${p.path}: ${p.message}`) };
  const expectedId = path.basename(file).replace(/\.ya?ml$/, '');
  const problems: string[] = [];
  if (checked.file.id !== expectedId) {
    problems.push(`${file}: id: got ${show(checked.file.id)}; must match the file name ("${expectedId}")`);
  }
  const resolved = resolveTenant(checked.file);
  problems.push(...resolved.problems.map((p) => `${file}: ${p.path}: ${p.message}`));
  return problems.length ? { problems } : { tenant: resolved.tenant, problems };
}

/** Options of `loadTenants`. */
export interface LoadTenantsOptions {
  /** Folder holding `<id>.yaml` files. */
  readonly dir: string;
  /** Load only this tenant (its file alone is read; other files are not parsed). */
  readonly only?: string;
  /** How file names appear in messages (relative to this folder). @default process.cwd() */
  readonly displayRoot?: string;
  /**
   * Rules that need more than the file (the deployment region, the platform configuration): their problems are
   * reported like the file's own, with the file name.
   * @default - none
   */
  readonly checks?: (tenant: TenantConfig) => readonly FieldProblem[];
}

/** Loads and validates tenants; throws one `TenantConfigError` listing every problem. */
export function loadTenants(opts: LoadTenantsOptions): TenantConfig[] {
  const display = (f: string) => path.relative(opts.displayRoot ?? process.cwd(), f) || f;
  if (!fs.existsSync(opts.dir)) throw new TenantConfigError([`${display(opts.dir)}: tenant folder does not exist`]);
  const entries = fs.readdirSync(opts.dir).sort();
  const problems: string[] = [];
  let files: string[];
  if (opts.only !== undefined) {
    // Only the named tenant's file is read; the listing tells a mis-cased extension from a missing file.
    const names = EXTENSIONS.map((e) => `${opts.only}${e}`);
    files = entries.filter((f) => names.includes(f) && kindOf(f) === 'tenant').map((f) => path.join(opts.dir, f));
    const lower = names.map((n) => n.toLowerCase());
    const miscased = entries.filter((f) => kindOf(f) === 'miscased' && lower.includes(f.toLowerCase()));
    problems.push(...miscased.map((f) => miscasedProblem(display(path.join(opts.dir, f)), f)));
    if (files.length === 0 && miscased.length === 0) {
      throw new TenantConfigError([
        `-c tenant=${opts.only}: no tenant file ${display(path.join(opts.dir, `${opts.only}.yaml`))}; ${knownTenants(entries)}`,
      ]);
    }
  } else {
    files = entries.filter((f) => kindOf(f) === 'tenant').map((f) => path.join(opts.dir, f));
    problems.push(
      ...entries
        .filter((f) => kindOf(f) === 'miscased')
        .map((f) => miscasedProblem(display(path.join(opts.dir, f)), f)),
    );
  }
  const tenants: TenantConfig[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (e) {
      // A dangling link (an editor's, a moved file) or a folder named like a tenant file.
      problems.push(
        `${display(f)}: (file): cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
      continue;
    }
    const r = parseTenantFile(display(f), text);
    problems.push(...r.problems);
    if (!r.tenant) continue;
    const first = seen.get(r.tenant.id);
    if (first) {
      problems.push(`${display(f)}: id: "${r.tenant.id}" is already used by ${first}; tenant ids must be unique`);
      continue;
    }
    seen.set(r.tenant.id, display(f));
    const extra = opts.checks?.(r.tenant) ?? [];
    problems.push(...extra.map((p) => `${display(f)}: ${p.path}: ${p.message}`));
    if (extra.length === 0) tenants.push(r.tenant);
  }
  if (problems.length) throw new TenantConfigError(problems);
  return tenants;
}

/**
 * Every tenant of the folder that parses, for the capacity model of a single-tenant synth: the fleet's use of the
 * account's quotas counts every tenant, while only one stack is built. Files with problems are not counted (and
 * do not stop that synth); their names are returned.
 */
export function loadTenantsForCapacity(dir: string): { tenants: TenantConfig[]; uncounted: string[] } {
  const tenants: TenantConfig[] = [];
  const uncounted: string[] = [];
  const seen = new Set<string>();
  for (const name of fs.readdirSync(dir).sort()) {
    if (kindOf(name) !== 'tenant') continue;
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      uncounted.push(name);
      continue;
    }
    const r = parseTenantFile(name, text);
    if (!r.tenant || seen.has(r.tenant.id)) {
      uncounted.push(name);
      continue;
    }
    seen.add(r.tenant.id);
    tenants.push(r.tenant);
  }
  return { tenants, uncounted };
}
