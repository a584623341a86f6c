/**
 * Loads tenant files from a folder: YAML → schema → plan defaults → cross-field rules. All problems of all
 * files are collected and reported together, one line each: file, field path, value and what is allowed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Document, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import type { z } from 'zod';
import { type FieldProblem, resolveTenant, type TenantConfig } from './tenant-config';
import { RENAMED_FIELDS, TenantFileSchema } from './tenant-schema';

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

/** How long a shown value may get before it is cut off with "...". */
const SHOW_MAX_CHARS = 80;

/** A value as messages show it: JSON, except non-finite numbers in YAML's spelling; cut off when long. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = preview(v, SHOW_MAX_CHARS);
  return s.length > SHOW_MAX_CHARS ? `${s.slice(0, SHOW_MAX_CHARS - 3)}...` : s;
}

/** YAML's spelling of a non-finite number (JSON has none and would say null). */
function yamlNumber(n: number): string {
  return Number.isNaN(n) ? '.nan' : n > 0 ? '.inf' : '-.inf';
}

/** JSON text of a value, stopped once it is longer than `max` (a huge value costs no more than a small one). */
function preview(v: unknown, max: number): string {
  let out = '';
  const write = (x: unknown): void => {
    if (out.length > max) return;
    if (typeof x === 'number') out += Number.isFinite(x) ? JSON.stringify(x) : yamlNumber(x);
    else if (typeof x === 'string') out += JSON.stringify(x.length > max ? x.slice(0, max) : x);
    else if (typeof x === 'bigint') out += String(x);
    else if (x === null || typeof x !== 'object') out += JSON.stringify(x) ?? String(x);
    else if (typeof (x as { toJSON?: unknown }).toJSON === 'function') write((x as { toJSON(): unknown }).toJSON());
    else if (Array.isArray(x)) {
      out += '[';
      for (let i = 0; i < x.length && out.length <= max; i++) {
        if (i) out += ',';
        write(x[i]);
      }
      out += ']';
    } else {
      out += '{';
      let first = true;
      for (const k of Object.keys(x)) {
        if (out.length > max) break;
        out += `${first ? '' : ','}${JSON.stringify(k.length > max ? k.slice(0, max) : k)}:`;
        first = false;
        write((x as Record<string, unknown>)[k]);
      }
      out += '}';
    }
  };
  write(v);
  return out;
}

function valueAt(obj: unknown, p: readonly PropertyKey[]): unknown {
  let cur = obj;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** A field path as messages show it (`escalation.reviewerEmails.0`; the whole file is `(file)`). */
function at(p: readonly PropertyKey[]): string {
  return p.length ? p.map(segment).join('.') : '(file)';
}

/** A path step that reads as itself (field names, tiers, indexes, most tag keys). */
const PLAIN_SEGMENT = /^[\p{L}\p{N}_:@/+=#-]+$/u;
/** Longer keys are cut in paths (the value or key shown after "got" says the rest). */
const SEGMENT_MAX_CHARS = 64;

/** One path step; a key with dots, spaces, line breaks or nothing at all is quoted, so a problem stays one line. */
function segment(k: PropertyKey): string {
  const s = String(k);
  const chars = [...s];
  if (PLAIN_SEGMENT.test(s) && chars.length <= SEGMENT_MAX_CHARS) return s;
  return JSON.stringify(chars.length > SEGMENT_MAX_CHARS ? `${chars.slice(0, SEGMENT_MAX_CHARS).join('')}…` : s);
}

/** One zod issue as a field problem that says what was given and what is allowed. */
function describeIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  written?: (p: readonly PropertyKey[]) => string | undefined,
): FieldProblem[] {
  const value = valueAt(input, issue.path);
  // .inf, -.inf, .nan or a number too large for a double: show what the file says.
  const nonFinite = typeof value === 'number' && !Number.isFinite(value);
  const got = (nonFinite && written?.(issue.path)) || show(value);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({
        path: at([...issue.path, k]),
        message:
          (issue.path.length === 0 ? RENAMED_FIELDS.get(k)?.message : undefined) ??
          `unknown field; allowed fields here: ${fieldNamesAt(issue.path).join(', ')}`,
      }));
    case 'invalid_value':
      return [
        {
          path: at(issue.path),
          message: `got ${got}; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}`,
        },
      ];
    case 'invalid_type':
      return [
        {
          path: at(issue.path),
          message:
            got === 'nothing'
              ? `is required (${issue.expected})`
              : `got ${got}; expected ${nonFinite && issue.expected === 'number' ? 'a finite number' : issue.expected}`,
        },
      ];
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
      return [{ path: at(issue.path), message: `got ${got}; must be ${bound} ${String(limit)}${unit}` }];
    }
    case 'invalid_key':
      // A record key that breaks its rules: say "got key ..." so the key, not its value, is what was given.
      return issue.issues.flatMap((inner) =>
        // zod drops the issue's input when it reports it; the key is the last step of the path.
        describeIssue(inner as z.core.$ZodIssue, issue.path[issue.path.length - 1]).map((p) => ({
          path: at(issue.path),
          message: p.message.replace(/^got /, 'got key '),
        })),
      );
    case 'custom': {
      const given = typeof issue.params?.given === 'string' ? issue.params.given : got;
      return [{ path: at(issue.path), message: `got ${given}; ${issue.message}` }];
    }
    default:
      return [{ path: at(issue.path), message: `got ${got}; ${issue.message}` }];
  }
}

/** The known field names at a path (for "unknown field" messages): an object's fields or a record's keys. */
function fieldNamesAt(p: readonly PropertyKey[]): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal shape
  let schema: any = TenantFileSchema;
  const unwrap = () => {
    while (schema?.def?.type === 'optional') schema = schema.def.innerType;
  };
  for (const k of p) {
    unwrap();
    schema = schema?.shape && Object.hasOwn(schema.shape, k) ? schema.shape[k as string] : undefined;
  }
  unwrap();
  if (schema?.shape) return Object.keys(schema.shape);
  // A record with a fixed set of keys (models.overrides: the tiers).
  const keys: Set<unknown> | undefined = schema?.def?.type === 'record' ? schema.def.keyType?._zod?.values : undefined;
  return keys ? [...keys].map(String) : [];
}

/**
 * Paths of `__proto__` keys anywhere in the input. Zod skips such a key in a record (`tags`) without a word,
 * so a tag named `__proto__` would vanish; it is reported instead.
 */
function protoKeyPaths(input: unknown): PropertyKey[][] {
  const found: PropertyKey[][] = [];
  const seen = new Set<object>();
  const todo: Array<[unknown, PropertyKey[]]> = [[input, []]];
  for (let next = todo.pop(); next; next = todo.pop()) {
    const [value, p] = next;
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    for (const k of Object.keys(value)) {
      const child = [...p, k];
      if (k === '__proto__') found.push(child);
      else todo.push([(value as Record<string, unknown>)[k], child]);
    }
  }
  return found;
}

/** `__proto__` keys that no other problem covers (zod reports them in strict objects itself). */
function protoKeyProblems(input: unknown, reported: readonly FieldProblem[]): FieldProblem[] {
  const covered = (p: string) => reported.some((r) => p === r.path || p.startsWith(`${r.path}.`));
  return protoKeyPaths(input)
    .map(at)
    .filter((p) => !covered(p))
    .map((p) => ({ path: p, message: 'got key "__proto__"; JavaScript reserves this name, so it cannot be a key' }));
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

/** A required field that is missing because the file still uses its old name (said once, at the old name). */
function missingButRenamed(issue: z.core.$ZodIssue, input: object): boolean {
  if (issue.path.length !== 1 || Object.hasOwn(input, issue.path[0]!)) return false;
  return [...RENAMED_FIELDS].some(([from, { to }]) => to === issue.path[0] && Object.hasOwn(input, from));
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
  const parsed = TenantFileSchema.safeParse(input);
  const written = (p: readonly PropertyKey[]) => {
    const node = doc.getIn(p, true);
    return isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]).trim() : undefined;
  };
  const schemaProblems = parsed.success
    ? []
    : parsed.error.issues.filter((i) => !missingButRenamed(i, input)).flatMap((i) => describeIssue(i, input, written));
  const fieldProblems = [...schemaProblems, ...protoKeyProblems(input, schemaProblems)];
  if (!parsed.success || fieldProblems.length) {
    return { problems: fieldProblems.map((p) => `${file}: ${p.path}: ${p.message}`) };
  }
  const expectedId = path.basename(file).replace(/\.ya?ml$/, '');
  const problems: string[] = [];
  if (parsed.data.id !== expectedId) {
    problems.push(`${file}: id: got ${show(parsed.data.id)}; must match the file name ("${expectedId}")`);
  }
  const resolved = resolveTenant(parsed.data);
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
