/**
 * Generated inputs for the tenant file loader (fast-check, fixed seed, so a failure reproduces): whatever a
 * file holds, `parseTenantFile` returns a tenant or one-line problems naming the file, never throws, and
 * takes time in proportion to the text. Tag maps that follow AWS's rules survive the trip through YAML.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { PLANS } from '../../../lambda/shared/tenant-vocabulary';
import { tenantJsonSchemaText } from '../../../lib/config/json-schema';
import { parseTenantFile } from '../../../lib/config/load-tenants';
import { MAX_TENANT_TAGS, tagKeyProblems } from '../../../lib/config/tags';

const FILE = 'tenants/acme.yaml';
/**
 * How much slower than a plain file of the same length a hostile one may parse. Measured in the same run (CI
 * never gates on absolute time): a linear parser stays within a small factor, a quadratic path at these sizes
 * is hundreds of times slower.
 */
const MAX_SLOWDOWN = 10;
const RUNS = { seed: 4242, numRuns: 300 };
/** A valid file's fields apart from tags: review off, so no reviewer e-mail is needed. */
// A silo tenant: the fuzz reaches every field, tags and function settings included (a pooled tenant refuses those).
const VALID = { id: 'acme', plan: 'basic', isolation: 'silo', escalation: { reviewThreshold: 0 } };

/** Parses one text and checks the loader's contract; returns the result for further checks. */
function parseChecked(text: string): ReturnType<typeof parseTenantFile> {
  const r = parseTenantFile(FILE, text);
  if (r.tenant) {
    expect(r.problems).toEqual([]);
  } else {
    expect(r.problems.length).toBeGreaterThan(0);
    // One line each, naming the file first.
    expect(r.problems.filter((p) => !p.startsWith(FILE) || /[\r\n]/.test(p))).toEqual([]);
  }
  return r;
}

/** Fastest of three parses, in ms. */
function parseMs(text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    parseTenantFile(FILE, text);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/**
 * Parse time of `text` over that of an ordinary document of the same length (a list of short items, as many
 * nodes per character as a tag map), in the same run.
 */
function slowdown(text: string): number {
  const head = 'id: acme\nplan: basic\nitems:\n';
  const plain = `${head}${'  - v\n'.repeat(Math.max(1, Math.ceil((text.length - head.length) / 6)))}`;
  return parseMs(text) / Math.max(parseMs(plain), 0.05);
}

/** Keys a file might hold: the schema's own, JavaScript's prototype names, reserved tag keys, anything. */
const key = fc.oneof(
  fc.constantFrom(
    'id',
    'plan',
    'tier',
    'tags',
    'escalation',
    'reviewerEmails',
    'reviewThreshold',
    'models',
    'overrides',
    'fallbacks',
    'alarms',
    'warning',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'aws:cost',
    'switchboard:plan',
    '<<',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Numbers JSON cannot hold or a double cannot keep: YAML writes them as .inf, .nan or long digits. */
const oddNumber = fc.oneof(
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, -0, 1e308, 5e-324),
  fc.double(),
  fc.bigInt({ min: -(2n ** 256n), max: 2n ** 256n }),
);

/** A JSON-ish value whose objects may carry any of the keys above (built as own properties). */
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    oddNumber,
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 6 }).map((entries) => Object.fromEntries(entries)),
  ),
}));

/** A tenant-shaped file: usually a real id and plan, plus fields that may be anything. */
const tenantLike = fc
  .tuple(
    fc.oneof(fc.constant('acme'), value),
    fc.oneof(fc.constantFrom(...PLANS), value),
    fc.array(fc.tuple(key, value), { maxLength: 8 }),
  )
  .map(([id, plan, rest]) => Object.fromEntries([['id', id], ['plan', plan], ...rest]));

/** Text built from YAML's own tokens, so the parser's harder paths (anchors, tags, flow, directives) come up. */
const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'id: acme\n',
        'plan: basic\n',
        'tags:\n',
        'escalation:\n',
        '  ',
        '- ',
        ': ',
        '\n',
        '[',
        ']',
        '{',
        '}',
        ', ',
        '---\n',
        '...\n',
        '&a ',
        '*a',
        '!!str ',
        '!!binary ',
        '!custom ',
        '%YAML 1.1\n',
        '? ',
        '| \n',
        '> \n',
        '"',
        "'",
        '# comment\n',
        '.inf',
        '-.Inf',
        '.NaN',
        '1e400',
        '__proto__',
        'aws:x',
        '<<: ',
        '\t',
        '\r\n',
        '\u2028',
      ),
      fc.string({ unit: 'binary', maxLength: 12 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

/** One character AWS allows in tags: a letter, a digit, a space separator or one of `_ . : / = + - @`. */
const tagChar = fc.oneof(
  fc.constantFrom(...'abcXYZ019 _.:/=+-@'),
  fc
    .integer({ min: 0, max: 0x10ffff })
    .map((cp) => String.fromCodePoint(cp))
    .filter((c) => /^[\p{L}\p{N}\p{Z}]$/u.test(c)),
);
const tagText = (minLength: number, maxLength: number) =>
  fc.array(tagChar, { minLength, maxLength }).map((cs) => cs.join(''));
/** A key a tenant may use: AWS's characters, no reserved prefix (`__proto__` is not a usable key either). */
const tagKey = tagText(1, 128).filter(
  (k) => tagKeyProblems(k).length === 0 && !/^(aws|switchboard):/i.test(k) && k !== '__proto__',
);

beforeAll(() => {
  // The first parse builds zod's parsers; it is not what the time budget is about.
  parseTenantFile(FILE, 'id: acme\nplan: basic\n');
});

describe('parseTenantFile on generated input', () => {
  it('returns a tenant or problems naming the file, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        parseChecked(text);
      }),
      RUNS,
    );
  });

  it('returns a tenant or problems naming the file, for text made of YAML tokens', () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        parseChecked(text);
      }),
      RUNS,
    );
  });

  it('returns a tenant or problems naming the file, for any YAML value (prototype keys, odd numbers, unicode)', () => {
    fc.assert(
      fc.property(tenantLike, (file) => {
        parseChecked(stringify(file));
      }),
      RUNS,
    );
  });

  it.each([
    ['a self-referencing alias', 'id: &x [*x]\nplan: basic\n'],
    ['a document that is its own value', '&a\nid: *a\nplan: basic\n'],
    ['aliases that expand to millions of nodes', billionLaughs()],
    ['a key of 100,000 characters', `id: acme\nplan: basic\n${'k'.repeat(100_000)}: 1\n`],
    ['a value of 1,000,000 characters', `id: acme\nplan: basic\ndisplayName: ${'v'.repeat(1_000_000)}\n`],
    [
      '5,000 tags',
      `id: acme\nplan: basic\ntags:\n${Array.from({ length: 5000 }, (_, i) => `  t${i}: v`).join('\n')}\n`,
    ],
    [
      '5,000 bad tags',
      `id: acme\nplan: basic\ntags:\n${Array.from({ length: 5000 }, (_, i) => `  aws:${i}: v`).join('\n')}\n`,
    ],
    ['5,000 repeated keys', `id: acme\nplan: basic\ntags:\n${'  t: v\n'.repeat(5000)}`],
    ['an alias without an anchor', 'id: *nothing\nplan: basic\n'],
    ['a key that is a mapping', 'id: acme\nplan: basic\n? { a: 1 }\n: x\n'],
    ['flow collections nested 5,000 deep', `id: acme\nplan: basic\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`],
    ['a line break in a key', 'id: acme\nplan: basic\n"a\\nb": 1\ntags: { "c\\rd": x }\n'],
  ])('returns problems for %s, in time proportional to its length', (_, text) => {
    expect(parseChecked(text).tenant).toBeUndefined();
    expect(slowdown(text)).toBeLessThan(MAX_SLOWDOWN);
  });
});

describe('tags on generated input', () => {
  it('keeps every tag map that follows the rules, as written', () => {
    const tags = fc
      .uniqueArray(tagKey, { maxLength: MAX_TENANT_TAGS })
      .chain((keys) =>
        fc.tuple(fc.constant(keys), fc.array(tagText(0, 256), { minLength: keys.length, maxLength: keys.length })),
      )
      .map(([keys, values]) => Object.fromEntries(keys.map((k, i) => [k, values[i]!])))
      // AWS reserves aws: in values too.
      .filter((t) => Object.values(t).every((v) => !/^aws:/i.test(v)));
    fc.assert(
      fc.property(tags, (t) => {
        const r = parseChecked(stringify({ ...VALID, tags: t }));
        expect(r.problems).toEqual([]);
        expect(r.tenant?.tags).toEqual(t);
      }),
      RUNS,
    );
  });

  it('rejects every key starting with aws:, in any case', () => {
    const awsKey = fc
      .tuple(fc.constantFrom('aws:', 'AWS:', 'Aws:', 'aWs:', 'awS:'), tagText(0, 100))
      .map(([prefix, rest]) => prefix + rest);
    fc.assert(
      fc.property(awsKey, (k) => {
        const r = parseChecked(stringify({ ...VALID, tags: { [k]: 'v' } }));
        expect(r.tenant).toBeUndefined();
        expect(r.problems.some((p) => p.includes('the prefix "aws:" (in any case) is reserved by AWS'))).toBe(true);
      }),
      RUNS,
    );
  });

  it('agrees with the editor JSON schema on which keys are allowed', () => {
    const names = JSON.parse(tenantJsonSchemaText()).properties.tags.propertyNames;
    const allowedBySchema = (k: string) => {
      const length = [...k].length;
      return (
        length >= names.minLength &&
        length <= names.maxLength &&
        new RegExp(names.pattern, 'u').test(k) &&
        !new RegExp(names.not.pattern, 'u').test(k)
      );
    };
    const anyKey = fc.oneof(tagText(0, 140), fc.string({ unit: 'binary', maxLength: 40 }), key);
    fc.assert(
      fc.property(anyKey, (k) => {
        expect(allowedBySchema(k)).toBe(tagKeyProblems(k).length === 0);
      }),
      RUNS,
    );
  });
});

/** The "billion laughs": nine levels of ten aliases each. */
function billionLaughs(): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\nid: acme\nplan: basic\n`;
}
