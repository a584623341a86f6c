import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { CONTROL_PLANE_ENV } from '../../lambda/control-plane/config';
import { parseTenantFile, TenantConfigError } from '../../lib/config/load-tenants';
import { PLAN_DEFAULTS } from '../../lib/config/plan-defaults';
import { RESERVED_TAG_KEYS } from '../../lib/config/tags';
import { TenantFileSchema } from '../../lib/config/tenant-schema';
import { CONTROL_PLANE_STACK_NAME } from '../../lib/stacks/control-plane-stack';
import { buildSwitchboard, PLATFORM_STACK_NAME } from '../../lib/switchboard';
import { repoPlatformConfig, synthSwitchboard, tenantDir } from '../support/synth';

/** What a minimal valid tenant file needs besides id and plan: a reviewer to tell about answers in review. */
const REVIEWER = 'escalation:\n  reviewerEmails: [ai-review@example.com]\n';

/** Matches one problem line exactly, whatever folder the file name is shown relative to. */
function line(text: string) {
  return expect.stringMatching(new RegExp(`(^|/)${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
}

/** Builds the app on a tenant folder and returns the error it throws (fails the test when it does not). */
function buildError(files: Record<string, string>, only?: string): TenantConfigError {
  const dir = tenantDir(files);
  try {
    buildSwitchboard(new App(), { platform: repoPlatformConfig(), tenantsDir: dir, only, compliance: false });
  } catch (e) {
    expect(e).toBeInstanceOf(TenantConfigError);
    return e as TenantConfigError;
  }
  throw new Error(`buildSwitchboard accepted ${Object.keys(files).join(', ')}`);
}

describe('buildSwitchboard', () => {
  it('builds only the platform stack and the named tenant with `only`', () => {
    const synth = synthSwitchboard({ only: 'acme', compliance: false });
    expect(synth.assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      PLATFORM_STACK_NAME,
      'Switchboard-Tenant-acme',
    ]);
    expect([...synth.built.tenants.keys()]).toEqual(['acme']);
  });

  it('builds every silo tenant of the folder without `only`, each in its own stack, and none for a pooled one', () => {
    const app = new App();
    const built = buildSwitchboard(app, {
      platform: repoPlatformConfig(),
      tenantsDir: tenantDir({
        alpha: `id: alpha\nplan: basic\nisolation: silo\n${REVIEWER}`,
        beta: `id: beta\nplan: premium\n${REVIEWER}`,
        gamma: `id: gamma\nplan: basic\n${REVIEWER}`,
      }),
      compliance: false,
    });
    expect([...built.tenants.keys()].sort()).toEqual(['alpha', 'beta']);
    expect(built.tenants.get('beta')?.stackName).toBe('Switchboard-Tenant-beta');
    expect(built.configs.map((t) => `${t.id}:${t.isolation}`).sort()).toEqual([
      'alpha:silo',
      'beta:silo',
      'gamma:pool',
    ]);
    expect(app.node.children.map((c) => c.node.id).sort()).toEqual([
      CONTROL_PLANE_STACK_NAME,
      PLATFORM_STACK_NAME,
      'Switchboard-Pool-1',
      'Switchboard-Tenant-alpha',
      'Switchboard-Tenant-beta',
    ]);
    expect(built.compliance).toBeUndefined();
  });

  it('with `only`, does not read the other tenant files (a broken one does not stop the synth)', () => {
    const dir = tenantDir({
      good: `id: good\nplan: standard\n${REVIEWER}`,
      broken: 'id: broken\nplan: [unclosed\n',
      other: 'id: other\nplan: gold\n',
    });
    const synth = synthSwitchboard({ tenantsDir: dir, only: 'good', compliance: false });
    expect(synth.assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      PLATFORM_STACK_NAME,
      'Switchboard-Tenant-good',
    ]);
    // The same folder without `only` fails, naming the broken files.
    const e = buildError({ good: `id: good\nplan: standard\n${REVIEWER}`, broken: 'id: broken\nplan: [unclosed\n' });
    expect(e.message).toContain('broken.yaml');
  });

  it("gives the reviewer role of a tenant the trust its file asks for: named principals, else the tenant's reviewer tag", () => {
    const role = 'arn:aws:iam::111122223333:role/AcmeReviewers';
    const synth = synthSwitchboard({
      compliance: false,
      tenantsDir: tenantDir({
        acme: `id: acme\nplan: standard\n${REVIEWER}  reviewerPrincipals: [${role}]\n`,
        globex: `id: globex\nplan: standard\n${REVIEWER}`,
      }),
    });
    const trustOf = (stack: string) => {
      const t = synth.template(stack) as unknown as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const roles = Object.entries(t.Resources).filter(
        ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('ApiReviewerRole'),
      );
      expect(roles).toHaveLength(1);
      return JSON.stringify(roles[0]![1].Properties.AssumeRolePolicyDocument);
    };
    expect(trustOf('Switchboard-Tenant-acme')).toContain(`"aws:PrincipalArn":["${role}"]`);
    expect(trustOf('Switchboard-Tenant-acme')).not.toContain('aws:PrincipalTag');
    expect(trustOf('Switchboard-Tenant-globex')).toContain('"aws:PrincipalTag/switchboard:reviewer":"globex"');
  });

  it('registers the compliance plugin by default', () => {
    const built = buildSwitchboard(new App(), {
      platform: repoPlatformConfig(),
      tenantsDir: tenantDir({ good: `id: good\nplan: basic\n${REVIEWER}` }),
    });
    expect(built.compliance?.name).toBe('switchboard-compliance');
  });

  describe('fails with a TenantConfigError naming file, field and what is allowed when', () => {
    it('the plan is unknown', () => {
      const e = buildError({ acme: 'id: acme\nplan: gold\n' });
      expect(e.message).toMatch(/acme\.yaml: plan: got "gold"; allowed: "basic" \| "standard" \| "premium"/);
    });

    it('the file still names the plan with the former field tier (and says the new name, once)', () => {
      const e = buildError({
        acme: `id: acme\ntier: standard\n${REVIEWER}`,
        globex: `id: globex\ntier: premium\nplan: premium\n${REVIEWER}`,
      });
      expect(e.problems).toEqual([
        line('acme.yaml: tier: renamed to "plan" (basic|standard|premium)'),
        line('globex.yaml: tier: renamed to "plan" (basic|standard|premium)'),
      ]);
    });

    it('a field named tier below the top level is an unknown field like any other', () => {
      const e = buildError({ acme: `id: acme\nplan: basic\nthrottle:\n  tier: basic\n` });
      expect(e.problems).toEqual([
        line('acme.yaml: throttle.tier: unknown field; allowed fields here: rateLimit, burstLimit'),
      ]);
    });

    it('the id is malformed', () => {
      const e = buildError({ Bad_Id: 'id: Bad_Id\nplan: basic\n' });
      expect(e.message).toMatch(/Bad_Id\.yaml: id: got "Bad_Id"; must be 3–32 characters of a-z, 0-9 and "-"/);
    });

    it('the id does not match the file name', () => {
      const e = buildError({ acme: 'id: acme-corp\nplan: basic\n' });
      expect(e.message).toMatch(/acme\.yaml: id: got "acme-corp"; must match the file name \("acme"\)/);
    });

    it('two files declare the same id (acme.yaml and acme.yml)', () => {
      const e = buildError({
        'acme.yaml': `id: acme\nplan: basic\n${REVIEWER}`,
        'acme.yml': `id: acme\nplan: standard\n${REVIEWER}`,
      });
      expect(e.message).toMatch(/acme\.yml: id: "acme" is already used by \S*acme\.yaml; tenant ids must be unique/);
      expect(e.problems).toHaveLength(1);
    });

    it('the budget is negative', () => {
      const e = buildError({ acme: 'id: acme\nplan: basic\nmonthlyBudgetUsd: -5\n' });
      expect(e.message).toMatch(/acme\.yaml: monthlyBudgetUsd: got -5; must be at least 0/);
    });

    it('a number is .inf, -.inf or .nan (shown as written, not as null)', () => {
      const e = buildError({
        acme: 'id: acme\nplan: basic\nmonthlyBudgetUsd: .inf\nthrottle:\n  rateLimit: -.Inf\n  burstLimit: .NaN\n',
        globex: 'id: globex\nplan: basic\ndataRetentionDays: 1e400\ndisplayName: .inf\n',
      });
      expect(e.problems).toEqual(
        expect.arrayContaining([
          line('acme.yaml: monthlyBudgetUsd: got .inf; expected a finite number'),
          line('acme.yaml: throttle.rateLimit: got -.Inf; expected a finite number'),
          line('acme.yaml: throttle.burstLimit: got .NaN; expected a finite number'),
          line('globex.yaml: dataRetentionDays: got 1e400; expected a finite number'),
          line('globex.yaml: displayName: got .inf; expected string'),
        ]),
      );
      expect(e.problems).toHaveLength(5);
    });

    it('a model override names a model outside the catalog', () => {
      const e = buildError({ acme: 'id: acme\nplan: standard\nmodels:\n  overrides:\n    fast: gpt-4o\n' });
      expect(e.message).toMatch(
        /acme\.yaml: models\.overrides\.fast: got "gpt-4o"; unknown model; known models: .*us\.amazon\.nova-micro-v1:0/,
      );
    });

    it('a model override or fallback names a tier that does not exist', () => {
      const e = buildError({ acme: 'id: acme\nplan: standard\nmodels:\n  overrides:\n    ultra: gpt-4o\n' });
      expect(e.problems).toEqual([
        line('acme.yaml: models.overrides.ultra: unknown field; allowed fields here: fast, balanced, deep'),
      ]);
    });

    it('the routing thresholds are out of order or out of range', () => {
      const e = buildError({
        acme: 'id: acme\nplan: standard\nrouting:\n  deepThreshold: 0.4\n  balancedThreshold: 0.6\n',
        globex: 'id: globex\nplan: standard\nrouting:\n  nearCapShare: 1.5\n',
      });
      expect(e.message).toMatch(
        /acme\.yaml: routing\.balancedThreshold: 0\.6 is above routing\.deepThreshold \(0\.4\); it must be at most that/,
      );
      expect(e.message).toMatch(/globex\.yaml: routing\.nearCapShare: got 1\.5; must be at most 1/);
    });

    it('the review threshold is above the cascade threshold', () => {
      const e = buildError({
        acme: 'id: acme\nplan: standard\nescalation:\n  confidenceThreshold: 0.5\n  reviewThreshold: 0.7\n',
      });
      expect(e.message).toMatch(
        /acme\.yaml: escalation\.reviewThreshold: 0\.7 is above escalation\.confidenceThreshold \(0\.5\)/,
      );
    });

    it('answers can go to human review but no reviewer would be told (reviewThreshold > 0, no reviewerEmails)', () => {
      const e = buildError({
        // A basic tenant with a stack of its own has the plan's review (a pooled one has none: no reviewer needed).
        acme: 'id: acme\nplan: basic\nisolation: silo\n',
        globex: 'id: globex\nplan: standard\nescalation:\n  reviewThreshold: 0.2\n  reviewerEmails: []\n',
      });
      const fix = 'add a reviewer e-mail, or set escalation.reviewThreshold: 0 to turn human review off';
      expect(e.problems).toEqual([
        line(
          `acme.yaml: escalation.reviewerEmails: got none; escalation.reviewThreshold is ${PLAN_DEFAULTS.basic.escalation.reviewThreshold} (the basic plan's), so answers can go to human review, but no reviewer would be told: ${fix}`,
        ),
        line(
          `globex.yaml: escalation.reviewerEmails: got none; escalation.reviewThreshold is 0.2, so answers can go to human review, but no reviewer would be told: ${fix}`,
        ),
      ]);
      // Review off: nobody needs to be told; a pooled basic tenant has no review, so no reviewer either.
      const off = parseTenantFile('initech.yaml', 'id: initech\nplan: basic\nescalation:\n  reviewThreshold: 0\n');
      expect(off.problems).toEqual([]);
      expect(parseTenantFile('hooli.yaml', 'id: hooli\nplan: basic\n').problems).toEqual([]);
    });

    it('records would expire before a review can end (dataRetentionDays vs reviewTimeoutMinutes)', () => {
      const e = buildError({
        acme: 'id: acme\nplan: standard\ndataRetentionDays: 2\nescalation:\n  reviewTimeoutMinutes: 2880\n',
      });
      expect(e.message).toMatch(
        /acme\.yaml: dataRetentionDays: 2 day\(s\) is not longer than a review may run \(escalation\.reviewTimeoutMinutes 2880 \+ 30 min\); keep records at least 3 days/,
      );
    });

    it('a reviewer e-mail is listed twice, also when the two differ only in case', () => {
      const e = buildError({
        acme: 'id: acme\nplan: standard\nescalation:\n  reviewerEmails: [a@x.com, ops@x.com, a@x.com]\n',
        globex: 'id: globex\nplan: standard\nescalation:\n  reviewerEmails: [Review@X.com, review@x.COM]\n',
      });
      expect(e.problems).toEqual([
        expect.stringMatching(
          /acme\.yaml: escalation\.reviewerEmails\.2: got "a@x\.com"; already listed as escalation\.reviewerEmails\.0 \("a@x\.com"\)/,
        ),
        expect.stringMatching(
          /globex\.yaml: escalation\.reviewerEmails\.1: got "review@x\.COM"; already listed as escalation\.reviewerEmails\.0 \("Review@X\.com"\).*ignoring case/,
        ),
      ]);
    });

    it('a reviewer principal is not one IAM role or user ARN of one account (wildcards, other services, two accounts, repeats)', () => {
      const principals = (list: string[]) =>
        `${REVIEWER}  reviewerPrincipals: [${list.map((a) => JSON.stringify(a)).join(', ')}]\n`;
      const e = buildError({
        acme: `id: acme\nplan: standard\n${principals(['arn:aws:iam::111122223333:role/*', 'arn:aws:s3:::bucket'])}`,
        globex: `id: globex\nplan: standard\n${principals([
          'arn:aws:iam::111122223333:role/Reviewers',
          'arn:aws:iam::444455556666:user/dana',
          'arn:aws:iam::111122223333:role/Reviewers',
        ])}`,
      });
      const allowed = 'must be the ARN of an IAM role or user of the account the tenant is deployed to';
      expect(e.problems).toEqual([
        expect.stringMatching(
          new RegExp(
            `acme\\.yaml: escalation\\.reviewerPrincipals\\.0: got "arn:aws:iam::111122223333:role/\\*"; ${allowed}`,
          ),
        ),
        expect.stringMatching(
          new RegExp(`acme\\.yaml: escalation\\.reviewerPrincipals\\.1: got "arn:aws:s3:::bucket"; ${allowed}`),
        ),
        expect.stringMatching(
          /globex\.yaml: escalation\.reviewerPrincipals\.1: got "arn:aws:iam::444455556666:user\/dana"; names account 444455556666, but escalation\.reviewerPrincipals\.0 names 111122223333/,
        ),
        expect.stringMatching(
          /globex\.yaml: escalation\.reviewerPrincipals\.2: got "arn:aws:iam::111122223333:role\/Reviewers"; already listed as escalation\.reviewerPrincipals\.0/,
        ),
      ]);
    });

    it('fallbacks name an unknown model or a tier the tenant does not have', () => {
      const e = buildError({
        acme: 'id: acme\nplan: basic\nmodels:\n  fallbacks:\n    fast: [gpt-4o]\n',
        globex: 'id: globex\nplan: basic\nmodels:\n  fallbacks:\n    deep: [us.amazon.nova-pro-v1:0]\n',
      });
      expect(e.message).toMatch(/acme\.yaml: models\.fallbacks\.fast\.0: got "gpt-4o"; unknown model/);
      expect(e.message).toMatch(
        /globex\.yaml: models\.fallbacks\.deep: tier "deep" is not in models\.allowed \(fast, balanced\)/,
      );
    });

    it('a tag key or value breaks the AWS tag rules or uses a reserved prefix', () => {
      const long = 'k'.repeat(129);
      const e = buildError({
        acme: [
          'id: acme',
          'plan: standard',
          'tags:',
          '  aws:team: a',
          '  AWS:Owner: b',
          '  switchboard:plan: gold',
          '  Switchboard:owner: c',
          '  "cost#center": "4711"',
          '  "": empty',
          `  ${long}: v`,
          '  note: "aws:copied"',
          '  path: "a|b"',
          `  long-value: ${'v'.repeat(257)}`,
          '  __proto__: x',
          '  fine: "Ünïcode letters and digits 42 _ . : / = + - @"',
        ].join('\n'),
      });
      const allowed = 'allowed: letters, digits, spaces and _ . : / = + - @';
      expect(e.problems).toEqual(
        expect.arrayContaining([
          line('acme.yaml: tags.aws:team: got key "aws:team"; the prefix "aws:" (in any case) is reserved by AWS'),
          line('acme.yaml: tags.AWS:Owner: got key "AWS:Owner"; the prefix "aws:" (in any case) is reserved by AWS'),
          expect.stringMatching(
            /acme\.yaml: tags\.switchboard:plan: got key "switchboard:plan"; the prefix "switchboard:" \(in any case\) is reserved for Switchboard's own tags \(switchboard:tenant, switchboard:plan, switchboard:backup\)$/,
          ),
          expect.stringMatching(
            /acme\.yaml: tags\.Switchboard:owner: got key "Switchboard:owner"; the prefix "switchboard:"/,
          ),
          line(`acme.yaml: tags.cost#center: got key "cost#center"; "#" is not allowed in a tag key; ${allowed}`),
          line('acme.yaml: tags."": got key ""; must be 1–128 characters'),
          line(
            `acme.yaml: tags."${long.slice(0, 64)}…": got key "${long.slice(0, 76)}...; must be 1–128 characters (has 129)`,
          ),
          line('acme.yaml: tags.note: got "aws:copied"; the prefix "aws:" (in any case) is reserved by AWS'),
          line(`acme.yaml: tags.path: got "a|b"; "|" is not allowed in a tag value; ${allowed}`),
          expect.stringMatching(
            /acme\.yaml: tags\.long-value: got "v+\.\.\.; must be at most 256 characters \(has 257\)$/,
          ),
          expect.stringMatching(/acme\.yaml: tags\.__proto__: got key "__proto__"; /),
        ]),
      );
      expect(e.problems).toHaveLength(11);
    });

    it('a tenant sets more tags than AWS allows beside the tags Switchboard adds itself', () => {
      const max = 50 - RESERVED_TAG_KEYS.length;
      const tags = (n: number) => Array.from({ length: n }, (_, i) => `  t${i}: v${i}`).join('\n');
      const e = buildError({ acme: `id: acme\nplan: standard\ntags:\n${tags(max + 1)}\n` });
      expect(e.problems).toEqual([
        line(
          `acme.yaml: tags: got ${max + 1} tags; at most ${max} allowed: AWS allows 50 tags per resource and Switchboard adds ${RESERVED_TAG_KEYS.length} of its own (${RESERVED_TAG_KEYS.join(', ')})`,
        ),
      ]);
      const ok = parseTenantFile('acme.yaml', `id: acme\nplan: standard\n${REVIEWER}tags:\n${tags(max)}\n`);
      expect(ok.problems).toEqual([]);
      expect(Object.keys(ok.tenant?.tags ?? {})).toHaveLength(max);
    });

    it('a guardrail customization is empty, names a topic twice, masks a credential or lists a PII type both ways', () => {
      const e = buildError({
        acme: `id: acme\nplan: standard\n${REVIEWER}guardrail: {}\n`,
        globex: [
          'id: globex',
          'plan: premium',
          REVIEWER.trimEnd(),
          'guardrail:',
          '  deniedTopics:',
          '    - { name: Investment advice, definition: Which assets to buy or sell. }',
          '    - { name: investment ADVICE, definition: The same topic again. }',
          '  pii:',
          '    block: [US_PASSPORT_NUMBER]',
          '    anonymize: [AWS_SECRET_KEY, US_PASSPORT_NUMBER]',
          '',
        ].join('\n'),
      });
      expect(e.problems).toEqual([
        line(
          "acme.yaml: guardrail: sets nothing; remove it to share the plan's guardrail, or set harmfulContentStrength, deniedTopics or pii",
        ),
        line(
          'globex.yaml: guardrail.deniedTopics.1.name: "investment ADVICE" is already guardrail.deniedTopics.0.name (names are compared ignoring case); name each topic once',
        ),
        line(
          'globex.yaml: guardrail.pii.anonymize.0: AWS_SECRET_KEY is a credential: every guardrail blocks it in prompts and answers (AWS_ACCESS_KEY, AWS_SECRET_KEY, PASSWORD); remove it',
        ),
        line(
          'globex.yaml: guardrail.pii.anonymize.1: US_PASSPORT_NUMBER is also in guardrail.pii.block; a type is either blocked or masked, list it once',
        ),
      ]);
    });

    it('a guardrail field breaks what Bedrock accepts (strength, topic name characters and lengths, PII type)', () => {
      const e = buildError({
        acme: [
          'id: acme',
          'plan: standard',
          REVIEWER.trimEnd(),
          'guardrail:',
          '  harmfulContentStrength: NONE',
          '  deniedTopics:',
          `    - { name: "Crypto/NFTs", definition: "${'d'.repeat(201)}" }`,
          '  pii: { anonymize: [SHOE_SIZE] }',
          '',
        ].join('\n'),
      });
      expect(e.message).toMatch(
        /acme\.yaml: guardrail\.harmfulContentStrength: got "NONE"; allowed: "LOW" \| "MEDIUM" \| "HIGH"/,
      );
      expect(e.message).toMatch(
        /acme\.yaml: guardrail\.deniedTopics\.0\.name: got "Crypto\/NFTs"; must use only letters, digits, spaces and - _ ! \? \./,
      );
      expect(e.message).toMatch(/acme\.yaml: guardrail\.deniedTopics\.0\.definition: .*200/);
      expect(e.message).toMatch(/acme\.yaml: guardrail\.pii\.anonymize\.0: got "SHOE_SIZE"; allowed: "ADDRESS" \| /);
    });

    it('a system preamble is longer than the function environment can carry', () => {
      const e = buildError({
        acme: `id: acme\nplan: standard\n${REVIEWER}systemPreamble: "${'é'.repeat(600)}"\n`,
        globex: `id: globex\nplan: standard\n${REVIEWER}systemPreamble: "${'x'.repeat(1001)}"\n`,
      });
      expect(e.problems).toEqual(
        expect.arrayContaining([
          line(
            "acme.yaml: systemPreamble: 1200 bytes in UTF-8; at most 1000 (it travels in the function's environment, which Lambda limits to 4 KB)",
          ),
        ]),
      );
      expect(e.message).toMatch(/globex\.yaml: systemPreamble: .*1000/);
    });

    it('a webhook is given as a full URL (escalation.webhookUrl): refused without showing its path, with the command to use', () => {
      const e = buildError({
        acme: `id: acme\nplan: standard\n${REVIEWER}  webhookUrl: https://hooks.acme.example.com/T000/B000/s3cr3t?token=t0k3n\n`,
      });
      expect(e.problems).toEqual([
        line(
          `acme.yaml: escalation.webhookUrl: got "https://hooks.acme.example.com/…" (the rest is not shown: it may carry a secret); no longer accepted, because a webhook URL often carries a secret and would sit in the template and the function's environment: declare escalation.webhook.origin: "https://hooks.acme.example.com" and set the full URL after deploying with npm run webhook:set -- --tenant acme --url '<url>' (README, "Webhooks")`,
        ),
      ]);
      expect(e.message).not.toMatch(/s3cr3t|t0k3n/);
    });

    it('a webhook origin is not only https://host[:port] or names an address the policy refuses', () => {
      const origins: Record<string, [string, RegExp]> = {
        path: [
          'https://hooks.example.com/T000/s3cr3t',
          /a path or query often carries a secret.*declare "https:\/\/hooks\.example\.com" and set the full URL after deploying with npm run webhook:set -- --tenant path --url/,
        ],
        query: ['https://hooks.example.com?token=s3cr3t', /a path or query often carries a secret/],
        metadata: ['https://169.254.169.254', /not an IP address/],
        private: ['https://10.0.0.5/', /not an IP address/],
        hex: ['https://0x7f000001', /not an IP address/],
        userinfo: ['https://user:s3cr3t@hooks.example.com', /user name or password/],
        plain: ['http://hooks.example.com', /must start with https:\/\//],
        local: ['https://localhost', /public DNS name/],
        internal: ['https://hooks.corp.internal', /local or internal networks/],
        port: ['https://hooks.example.com:22', /port 22 is not allowed/],
      };
      const e = buildError(
        Object.fromEntries(
          Object.entries(origins).map(([id, [origin]]) => [
            id,
            `id: ${id}\nplan: standard\n${REVIEWER}  webhook: { origin: "${origin}" }\n`,
          ]),
        ),
      );
      expect(e.problems).toHaveLength(Object.keys(origins).length);
      for (const [id, [, why]] of Object.entries(origins)) {
        const p = e.problems.find((x) => x.includes(`${id}.yaml: escalation.webhook.origin: got `));
        expect({ id, p }).toEqual({ id, p: expect.stringMatching(why) });
      }
      expect(e.message).not.toMatch(/s3cr3t/);
    });

    it('a tenant declares a webhook but the platform names nobody who could set its URL (webhookOperatorRoles)', () => {
      const dir = tenantDir({
        acme: `id: acme\nplan: standard\n${REVIEWER}  webhook: { origin: https://hooks.example.com }\n`,
      });
      const build = () =>
        buildSwitchboard(new App(), {
          platform: { ...repoPlatformConfig(), webhookOperatorRoles: [] },
          tenantsDir: dir,
          compliance: false,
        });
      expect(build).toThrow(TenantConfigError);
      expect(build).toThrow(
        /acme\.yaml: escalation\.webhook: nobody could set its URL or read its signing key: name the roles that may in cdk\.json context\.switchboard\.webhookOperatorRoles/,
      );
      // With operators, the same file builds; its origin is normalized.
      const ok = buildSwitchboard(new App(), { platform: repoPlatformConfig(), tenantsDir: dir, compliance: false });
      expect(ok.configs[0]!.escalation.webhook).toEqual({ origin: 'https://hooks.example.com' });
    });

    it('the file has an unknown field', () => {
      const e = buildError({ acme: 'id: acme\nplan: basic\ncolour: blue\n' });
      expect(e.message).toMatch(/acme\.yaml: colour: unknown field; allowed fields here: id, displayName, plan, /);
    });

    it('an unknown field is nested (the path names the parent)', () => {
      const e = buildError({ acme: 'id: acme\nplan: basic\nthrottle:\n  rate: 5\n' });
      expect(e.message).toMatch(
        /acme\.yaml: throttle\.rate: unknown field; allowed fields here: rateLimit, burstLimit/,
      );
    });

    it('the YAML does not parse', () => {
      const e = buildError({ acme: 'id: acme\nplan: [basic\n' });
      // Names the file, the line and column, and the parser's reason.
      expect(e.message).toMatch(/acme\.yaml:\d+:\d+: YAML syntax error: Flow sequence/);
    });

    it('a tenant file has an upper-case extension (TENANT.YAML, acme.Yml); hidden files and other files are not read', () => {
      const e = buildError({
        'TENANT.YAML': 'id: tenant\nplan: basic\n',
        'acme.Yml': 'id: acme\nplan: basic\n',
        '.draft.YAML': 'not: [a tenant\n',
        '.#acme.yaml': 'an editor lock file',
        'notes.txt': 'not a tenant',
      });
      expect(e.problems).toEqual([
        line(
          'TENANT.YAML: (file): got extension ".YAML"; only files ending in lower-case .yaml or .yml are read: rename it to tenant.yaml',
        ),
        line(
          'acme.Yml: (file): got extension ".Yml"; only files ending in lower-case .yaml or .yml are read: rename it to acme.yml',
        ),
      ]);
    });

    it('`only` names a tenant whose file has an upper-case extension', () => {
      const e = buildError({ 'acme.YML': 'id: acme\nplan: basic\n' }, 'acme');
      expect(e.problems).toEqual([
        line(
          'acme.YML: (file): got extension ".YML"; only files ending in lower-case .yaml or .yml are read: rename it to acme.yml',
        ),
      ]);
    });

    it('the file holds more than one YAML document (separated by ---)', () => {
      const e = buildError({
        acme: 'id: acme\nplan: basic\n---\nid: other\nplan: basic\n',
        globex: '---\nid: globex\nplan: basic\n---\nid: x\n---\nid: y\n',
      });
      expect(e.problems).toEqual([
        line(
          'acme.yaml: (file): got 2 YAML documents (the second starts on line 3); a tenant file holds exactly one YAML document',
        ),
        line(
          'globex.yaml: (file): got 3 YAML documents (the second starts on line 4); a tenant file holds exactly one YAML document',
        ),
      ]);
    });

    it('a key is repeated in a mapping', () => {
      const e = buildError({ acme: 'id: acme\nplan: basic\nplan: premium\n' });
      expect(e.problems).toEqual([
        line(
          'acme.yaml:3:1: YAML syntax error: key "plan" is already on line 2; each key may appear once in a mapping',
        ),
      ]);
    });

    it('an alias has no anchor, refers to itself, or expands to too much data (no stack trace)', () => {
      const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 1; i < 9; i++)
        bomb.push(
          `a${i}: &a${i} [${Array(10)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      const e = buildError({
        acme: 'id: *nothing\nplan: basic\n',
        globex: `${bomb.join('\n')}\nid: globex\nplan: basic\n`,
        initech: 'id: &x [*x]\nplan: basic\n',
      });
      expect(e.problems).toEqual([
        expect.stringMatching(/acme\.yaml: YAML syntax error: Unresolved alias .*: nothing$/),
        line('globex.yaml: YAML syntax error: aliases (*name) expand to too much data; write the values out instead'),
        expect.stringMatching(/initech\.yaml: id: got \[\[\[\[.*\.\.\.; expected string$/),
      ]);
    });

    it('the YAML is nested deeper than the parser can go', () => {
      const e = buildError({ acme: `id: acme\nplan: basic\nx: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n` });
      expect(e.problems[0]).toMatch(/acme\.yaml:3:\d+: YAML syntax error: nested too deeply$/);
    });

    it('a key holds a line break or dots (the path quotes it, and the problem stays on one line)', () => {
      const e = buildError({ acme: 'id: acme\nplan: basic\n"col\\nour": blue\ntags: { "a.b c": "x|y" }\n' });
      expect(e.problems).toEqual([
        line(
          'acme.yaml: tags."a.b c": got "x|y"; "|" is not allowed in a tag value; allowed: letters, digits, spaces and _ . : / = + - @',
        ),
        line(
          `acme.yaml: "col\\nour": unknown field; allowed fields here: ${Object.keys(TenantFileSchema.shape).join(', ')}`,
        ),
      ]);
    });

    it('a tenant file cannot be read (a dangling link, a folder named like a file)', () => {
      const dir = tenantDir({});
      fs.symlinkSync(path.join(dir, 'gone.yaml'), path.join(dir, 'acme.yaml'));
      fs.mkdirSync(path.join(dir, 'globex.yaml'));
      let e: unknown;
      try {
        buildSwitchboard(new App(), { platform: repoPlatformConfig(), tenantsDir: dir, compliance: false });
      } catch (caught) {
        e = caught;
      }
      expect(e).toBeInstanceOf(TenantConfigError);
      expect((e as TenantConfigError).problems).toEqual([
        expect.stringMatching(/acme\.yaml: \(file\): cannot be read \(ENOENT\)$/),
        expect.stringMatching(/globex\.yaml: \(file\): cannot be read \(EISDIR\)$/),
      ]);
    });

    it('several files are bad: every problem is listed in one error', () => {
      const e = buildError({ a1x: 'id: a1x\nplan: gold\n', b2y: 'id: b2y\nplan: basic\nmonthlyBudgetUsd: -1\n' });
      expect(e.problems).toHaveLength(2);
      expect(e.message).toContain('(2 problems)');
      expect(e.problems[0]).toMatch(/a1x\.yaml: plan:/);
      expect(e.problems[1]).toMatch(/b2y\.yaml: monthlyBudgetUsd:/);
    });

    it('`only` names a tenant without a file: the known tenants are listed, sorted', () => {
      const e = buildError(
        {
          zeta: 'id: zeta\nplan: basic\n',
          acme: 'id: acme\nplan: basic\n',
          'acme.yml': 'id: acme\nplan: basic\n',
          globex: 'id: globex\nplan: basic\n',
          '.hidden.yaml': '',
          'notes.txt': '',
        },
        'nobody',
      );
      expect(e.problems).toEqual([
        expect.stringMatching(/^-c tenant=nobody: no tenant file \S*nobody\.yaml; known tenants: acme, globex, zeta$/),
      ]);
    });

    it('`only` names a tenant without a file in a large folder: the first 20 known tenants and how many more', () => {
      const ids = Array.from({ length: 25 }, (_, i) => `t${String(25 - i).padStart(2, '0')}`);
      const e = buildError(Object.fromEntries(ids.map((id) => [id, `id: ${id}\nplan: basic\n`])), 'nobody');
      const first20 = [...ids].sort().slice(0, 20).join(', ');
      expect(e.problems).toEqual([expect.stringMatching(new RegExp(`; known tenants: ${first20} … and 5 more$`))]);
    });

    it('`only` names a tenant in a folder without tenant files', () => {
      const e = buildError({ 'notes.txt': '' }, 'nobody');
      expect(e.problems).toEqual([
        expect.stringMatching(/^-c tenant=nobody: no tenant file \S*nobody\.yaml; the folder has no tenant files$/),
      ]);
    });
  });

  describe('pooled tenants and the pool cells', () => {
    const pooled = (n: number) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [`pooled-${i}`, `id: pooled-${i}\nplan: basic\n${REVIEWER}`]),
      );
    const silo = {
      acme: `id: acme\nplan: standard\n${REVIEWER}`,
      initech: `id: initech\nplan: basic\nisolation: silo\n${REVIEWER}`,
    };
    /** Resources per stack of a synth. */
    const resourceCounts = (synth: ReturnType<typeof synthSwitchboard>) =>
      Object.fromEntries(
        synth.assembly.stacks.map((st) => [st.stackName, Object.keys(st.template.Resources ?? {}).length]),
      );
    const two = synthSwitchboard({ tenantsDir: tenantDir({ ...silo, ...pooled(2) }), compliance: false });

    it('adds no CloudFormation resource per pooled tenant: 2 and 20 pooled tenant files synthesize the same stacks', () => {
      const twenty = synthSwitchboard({ tenantsDir: tenantDir({ ...silo, ...pooled(20) }), compliance: false });
      expect(twenty.built.configs.filter((t) => t.isolation === 'pool')).toHaveLength(20);
      expect(resourceCounts(twenty)).toEqual(resourceCounts(two));
      expect(Object.keys(resourceCounts(two)).sort()).toEqual([
        CONTROL_PLANE_STACK_NAME,
        PLATFORM_STACK_NAME,
        'Switchboard-Pool-1',
        'Switchboard-Tenant-acme',
        'Switchboard-Tenant-initech',
      ]);
    });

    it('makes a second cell one line of configuration: its stack, and the control plane places tenants in both', () => {
      const synth = synthSwitchboard({
        tenantsDir: tenantDir({ ...silo, ...pooled(2) }),
        compliance: false,
        platform: { poolCells: ['pool-1', 'pool-2'] },
      });
      const counts = resourceCounts(synth);
      expect(counts['Switchboard-Pool-2']).toBe(counts['Switchboard-Pool-1']);
      const cp = synth.template(CONTROL_PLANE_STACK_NAME) as unknown as {
        Resources: Record<
          string,
          { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }
        >;
      };
      const fn = Object.values(cp.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
      const cells = JSON.stringify(fn.Properties.Environment?.Variables[CONTROL_PLANE_ENV.cells]);
      expect(cells.indexOf('\\"id\\":\\"pool-1\\"')).toBeGreaterThanOrEqual(0);
      expect(cells.indexOf('\\"id\\":\\"pool-2\\"')).toBeGreaterThan(cells.indexOf('\\"id\\":\\"pool-1\\"'));
      expect(cells).toContain('Switchboard-Pool-2');
    });

    it('deploys the cells after the platform and the control plane after the cells; no cell depends on the control plane', () => {
      const deps = (name: string) =>
        two.assembly
          .getStackByName(name)
          .dependencies.map((d) => d.id)
          .filter((d) => !d.endsWith('.assets'))
          .sort();
      expect(deps('Switchboard-Pool-1')).toEqual([PLATFORM_STACK_NAME]);
      expect(deps(CONTROL_PLANE_STACK_NAME)).toEqual([PLATFORM_STACK_NAME, 'Switchboard-Pool-1']);
      expect(JSON.stringify(two.template('Switchboard-Pool-1'))).not.toContain(CONTROL_PLANE_STACK_NAME);
    });

    it('refuses `-c tenant=<pooled id>` with what to do instead: pooled tenants have no stack', () => {
      const e = buildError({ ...silo, ...pooled(1) }, 'pooled-0');
      expect(e.problems).toEqual([
        expect.stringMatching(
          /^-c tenant=pooled-0: pooled-0 is a pooled tenant \(isolation: pool\): it has no stack of its own\. .*control plane/,
        ),
      ]);
    });

    it('still validates a pooled tenant file like any other', () => {
      const e = buildError({ ...silo, bad: 'id: bad\nplan: basic\nmonthlyBudgetUsd: -1\n' });
      expect(e.message).toMatch(/bad\.yaml: monthlyBudgetUsd: got -1; must be at least 0/);
    });
  });
});
