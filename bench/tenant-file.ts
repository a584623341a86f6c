/** The tenant file the benchmarks use. */

/** The smallest valid tenant file: id, plan, and a reviewer (the standard plan's answers can go to review). */
export function minimalTenantFile(id: string): string {
  return `id: ${id}\nplan: standard\nescalation:\n  reviewerEmails: [ai-review@example.com]\n`;
}
