/**
 * A tenant document (a tenant file's content, parsed from YAML or JSON) checked against the tenant file schema, with
 * every problem as a field path and a message that says what was given and what is allowed. The tenant loader
 * (lib/config/load-tenants.ts) and the control plane's `POST /v1/tenants` both use it, so a file and a document
 * get the same messages.
 */
import type { z } from 'zod';
import { type FieldProblem, resolveTenant, type TenantConfig } from './tenant-config';
import { RENAMED_FIELDS, type TenantFile, TenantFileSchema } from './tenant-schema';

/** How long a shown value may get before it is cut off with "...". */
const SHOW_MAX_CHARS = 80;

/** A value as messages show it: JSON, except non-finite numbers in YAML's spelling; cut off when long. */
export function show(v: unknown): string {
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
export function at(p: readonly PropertyKey[]): string {
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

/** A required field that is missing because the file still uses its old name (said once, at the old name). */
function missingButRenamed(issue: z.core.$ZodIssue, input: object): boolean {
  if (issue.path.length !== 1 || Object.hasOwn(input, issue.path[0]!)) return false;
  return [...RENAMED_FIELDS].some(([from, { to }]) => to === issue.path[0] && Object.hasOwn(input, from));
}

/** The text of a scalar as the source wrote it (`.inf` in YAML), for values JSON cannot show; or undefined. */
export type WrittenAt = (p: readonly PropertyKey[]) => string | undefined;

/**
 * Checks a document against the schema alone (no plan defaults, no rules across fields): the parsed file, or the
 * problems. `written` gives the source text of a value (the YAML loader passes it, so `.inf` reads as written).
 */
export function checkTenantDocument(
  input: unknown,
  written?: WrittenAt,
): { file?: TenantFile; problems: FieldProblem[] } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {
      problems: [{ path: '(file)', message: `got ${show(input)}; expected an object with at least "id" and "plan"` }],
    };
  }
  const parsed = TenantFileSchema.safeParse(input);
  const schemaProblems = parsed.success
    ? []
    : parsed.error.issues.filter((i) => !missingButRenamed(i, input)).flatMap((i) => describeIssue(i, input, written));
  const problems = [...schemaProblems, ...protoKeyProblems(input, schemaProblems)];
  return parsed.success && problems.length === 0 ? { file: parsed.data, problems } : { problems };
}

/** Checks a document against the schema, applies the plan defaults and the rules across fields. */
export function validateTenantDocument(input: unknown): { tenant?: TenantConfig; problems: FieldProblem[] } {
  const checked = checkTenantDocument(input);
  return checked.file ? resolveTenant(checked.file) : { problems: checked.problems };
}
