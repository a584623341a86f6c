/**
 * Tags a tenant file may set (`tags:`), and the tags Switchboard sets itself on every tenant resource.
 * The rules are AWS's ("Tag naming limits and requirements" in the Tag Editor user guide): keys of 1–128
 * and values of 0–256 Unicode characters, only letters, digits, spaces and `_ . : / = + - @`, no `aws:`
 * prefix in any case, at most 50 tags per resource. Switchboard's own tags count towards those 50.
 */

/** The tag keys Switchboard sets on every tenant resource, by purpose. */
export const SWITCHBOARD_TAGS = {
  /** The tenant id. */
  tenant: 'switchboard:tenant',
  /** The tenant's plan. */
  plan: 'switchboard:plan',
  /** Whether the resource is in the backup plan (reserved now so that adding it cannot push a tenant over 50). */
  backup: 'switchboard:backup',
} as const;

/** Every tag key Switchboard reserves for itself; a tenant file may set none of them. */
export const RESERVED_TAG_KEYS: readonly string[] = Object.values(SWITCHBOARD_TAGS);

/** Tag key prefix AWS reserves (in any case). */
export const AWS_TAG_PREFIX = 'aws:';
/** Tag key prefix Switchboard reserves (in any case), for the tags it sets now and later. */
export const SWITCHBOARD_TAG_PREFIX = 'switchboard:';
/** Tags AWS allows on one resource (tags with the `aws:` prefix do not count). */
export const AWS_MAX_TAGS_PER_RESOURCE = 50;
/** Tags a tenant file may set: what AWS allows minus what Switchboard sets itself. */
export const MAX_TENANT_TAGS = AWS_MAX_TAGS_PER_RESOURCE - RESERVED_TAG_KEYS.length;
/** Length limits in Unicode characters (code points, as AWS and JSON Schema count them). */
export const TAG_KEY_MAX_CHARS = 128;
export const TAG_VALUE_MAX_CHARS = 256;

/** AWS's pattern for tag keys and values (letters, numbers, space separators and `_ . : / = + - @`). */
export const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** A pattern matching a prefix in any case, without regex flags (JSON Schema patterns have none). */
function anyCase(prefix: string): string {
  return [...prefix].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('');
}
/** JSON Schema pattern of the reserved key prefixes (editors flag them; the loader says why). */
export const RESERVED_KEY_PREFIX_PATTERN = `^(${anyCase(AWS_TAG_PREFIX)}|${anyCase(SWITCHBOARD_TAG_PREFIX)})`;
/** JSON Schema pattern of the reserved value prefix. */
export const RESERVED_VALUE_PREFIX_PATTERN = `^${anyCase(AWS_TAG_PREFIX)}`;

const TAG_CHAR = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]$/u;
const ALLOWED_CHARS = 'allowed: letters, digits, spaces and _ . : / = + - @';

function charProblems(s: string, what: 'key' | 'value'): string[] {
  if (TAG_PATTERN.test(s)) return [];
  const bad = [...new Set([...s].filter((c) => !TAG_CHAR.test(c)))];
  const shown = bad.slice(0, 5).map((c) => JSON.stringify(c));
  const list = bad.length > 5 ? `${shown.join(', ')} and ${bad.length - 5} more` : shown.join(', ');
  return [`${list} ${bad.length === 1 ? 'is' : 'are'} not allowed in a tag ${what}; ${ALLOWED_CHARS}`];
}

function prefixProblems(s: string, what: 'key' | 'value'): string[] {
  const lower = s.toLowerCase();
  if (lower.startsWith(AWS_TAG_PREFIX)) return [`the prefix "${AWS_TAG_PREFIX}" (in any case) is reserved by AWS`];
  if (what === 'key' && lower.startsWith(SWITCHBOARD_TAG_PREFIX)) {
    return [
      `the prefix "${SWITCHBOARD_TAG_PREFIX}" (in any case) is reserved for Switchboard's own tags (${RESERVED_TAG_KEYS.join(', ')})`,
    ];
  }
  return [];
}

/** What is wrong with a tag key (empty when nothing), each as "what is allowed". */
export function tagKeyProblems(key: string): string[] {
  const length = [...key].length;
  const problems =
    length === 0
      ? [`must be 1–${TAG_KEY_MAX_CHARS} characters`]
      : length > TAG_KEY_MAX_CHARS
        ? [`must be 1–${TAG_KEY_MAX_CHARS} characters (has ${length})`]
        : [];
  return [...problems, ...prefixProblems(key, 'key'), ...charProblems(key, 'key')];
}

/** What is wrong with a tag value (empty when nothing), each as "what is allowed". */
export function tagValueProblems(value: string): string[] {
  const length = [...value].length;
  const problems =
    length > TAG_VALUE_MAX_CHARS ? [`must be at most ${TAG_VALUE_MAX_CHARS} characters (has ${length})`] : [];
  return [...problems, ...prefixProblems(value, 'value'), ...charProblems(value, 'value')];
}

/** What is wrong with the number of tags, or nothing. */
export function tagCountProblem(count: number): string | undefined {
  return count > MAX_TENANT_TAGS
    ? `at most ${MAX_TENANT_TAGS} allowed: AWS allows ${AWS_MAX_TAGS_PER_RESOURCE} tags per resource and Switchboard adds ${RESERVED_TAG_KEYS.length} of its own (${RESERVED_TAG_KEYS.join(', ')})`
    : undefined;
}
