/** zod validation issues as the API reports them: `path: message`, `(body)` for the body itself. */

/** The structural part of a zod issue that the problem text needs. */
export interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** One problem line per issue. */
export function zodProblems(issues: readonly IssueLike[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
}
