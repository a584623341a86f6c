import {
  groupsOf,
  type ReviewerAccess,
  reviewerAccess,
  reviewerGroupName,
} from '../../../../lambda/review/http/reviewer-claims';
import { ERROR_CODES } from '../../../../lambda/shared/errors';

const ISS = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example';

/** Claims as API Gateway's Cognito authorizer hands them over: every value a string. */
const claims = (groups: unknown, extra: Record<string, unknown> = {}) => ({
  sub: '5f1e6c1a-0000-4000-8000-000000000001',
  iss: ISS,
  token_use: 'id',
  email: 'ana@acme.example.com',
  'cognito:username': 'ana',
  'cognito:groups': groups,
  ...extra,
});

function refusal(access: ReviewerAccess): string {
  if (access.allowed) throw new Error('expected a refusal');
  expect(access.error.code).toBe('forbidden');
  expect(access.error.status).toBe(ERROR_CODES.forbidden);
  return access.error.message;
}

describe('reviewer claims', () => {
  it('names the group of a tenant tenant-<id>', () => {
    expect(reviewerGroupName('acme')).toBe('tenant-acme');
    expect(() => reviewerGroupName('')).toThrow(/1 to 128 characters/);
    expect(() => reviewerGroupName('a'.repeat(122))).toThrow(/no valid reviewer group name/);
  });

  it.each([
    ['a REST API authorizer claim (comma-separated)', 'tenant-globex,tenant-acme'],
    ['an HTTP API JWT authorizer claim ([a b])', '[tenant-globex tenant-acme]'],
    ['a single group', 'tenant-acme'],
    ['a parsed list', ['tenant-globex', 'tenant-acme']],
  ])('lets a member of tenant-acme review acme, from %s', (_what, groups) => {
    const access = reviewerAccess(claims(groups), 'acme');
    expect(access).toEqual({
      allowed: true,
      reviewer: { name: 'ana@acme.example.com', identity: `cognito:${ISS}#5f1e6c1a-0000-4000-8000-000000000001` },
    });
  });

  it("refuses a tenant whose group the reviewer is not in, naming the missing group and not the reviewer's", () => {
    const message = refusal(reviewerAccess(claims('tenant-globex,admins'), 'acme'));
    expect(message).toMatch(/may not review tenant "acme".*group "tenant-acme"/);
    expect(message).not.toMatch(/globex|admins/);
  });

  it.each([
    ['no groups at all', undefined],
    ['an empty claim', ''],
    ['a group that only starts like the tenant', 'tenant-acme2,tenant-acm'],
    ['the bare tenant id', 'acme'],
    ['a different case', 'Tenant-Acme'],
  ])('refuses %s', (_what, groups) => {
    expect(refusal(reviewerAccess(claims(groups), 'acme'))).toMatch(/group "tenant-acme"/);
  });

  it('refuses calls without claims, without a subject, or with a claim it cannot read', () => {
    expect(refusal(reviewerAccess(undefined, 'acme'))).toMatch(/needs a reviewer sign-in/);
    expect(refusal(reviewerAccess(null, 'acme'))).toMatch(/needs a reviewer sign-in/);
    expect(refusal(reviewerAccess(claims('tenant-acme', { sub: '' }), 'acme'))).toMatch(/no "sub" claim/);
    expect(refusal(reviewerAccess(claims(42), 'acme'))).toMatch(/could not be read/);
    expect(refusal(reviewerAccess(claims(['tenant-acme', 7]), 'acme'))).toMatch(/could not be read/);
  });

  it('refuses a tenant id that has no group rather than failing', () => {
    expect(refusal(reviewerAccess(claims('tenant-acme'), ''))).toMatch(/No tenant "" can be reviewed/);
    expect(refusal(reviewerAccess(claims('tenant-acme'), 'x'.repeat(5_000)))).toMatch(/can be reviewed/);
  });

  it('refuses an oversized groups claim without reading it (bounded work on hostile input)', () => {
    const huge = `${'g,'.repeat(20_000)}tenant-acme`;
    expect(groupsOf(huge)).toBeUndefined();
    expect(refusal(reviewerAccess(claims(huge), 'acme'))).toMatch(/could not be read/);
  });

  it('names the reviewer by email, else by user name, else by subject', () => {
    const by = (extra: Record<string, unknown>) => {
      const a = reviewerAccess(claims('tenant-acme', extra), 'acme');
      return a.allowed ? a.reviewer.name : undefined;
    };
    expect(by({})).toBe('ana@acme.example.com');
    expect(by({ email: undefined })).toBe('ana');
    expect(by({ email: undefined, 'cognito:username': undefined })).toBe('5f1e6c1a-0000-4000-8000-000000000001');
  });
});
