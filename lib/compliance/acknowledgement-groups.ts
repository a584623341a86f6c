/**
 * Groups acknowledged findings by their reason, as a reviewer reads them: one reason covers several rules
 * (the same rule in three regulated packs) on several resources (every method of an API). Per stack and
 * fleet-wide. Everything is sorted by plain code-unit order, independent of the order findings were
 * reported in and of the machine's locale, so two releases' reports diff cleanly.
 */
import type { AcknowledgedFinding, ComplianceReport, StackResult } from './report';

/** A resource under one reason. */
export interface AcknowledgedResource {
  /** Construct path of the resource. */
  readonly resource: string;
  /**
   * Constructs the acknowledgements were made on where they are wider than the resource itself (an
   * ancestor other than the L2 construct whose `Resource` child it is): the acknowledgement covers that
   * construct's whole subtree. Empty when made on the resource (or its L2 construct).
   */
  readonly acknowledgedOn: readonly string[];
  /** The group's rules acknowledged on this resource (all of them, or a subset). */
  readonly rules: readonly string[];
}

/** The acknowledgements of one stack that share a reason. */
export interface ReasonGroup {
  readonly reason: string;
  /** Every rule acknowledged for this reason. */
  readonly rules: readonly string[];
  /** Acknowledged findings (rule × resource). */
  readonly findings: number;
  /** Each resource once. */
  readonly resources: readonly AcknowledgedResource[];
}

/** A reason across the fleet. */
export interface FleetReasonGroup {
  readonly reason: string;
  readonly rules: readonly string[];
  readonly findings: number;
  /** Stacks with at least one finding acknowledged for this reason, in report order. */
  readonly stacks: readonly string[];
}

/** Code-unit order: the same on every machine (`localeCompare` follows the ICU locale). */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort(byCodeUnit);

/** True when an acknowledgement made on `on` reaches wider than `resource` and its own L2 construct. */
function isWiderThanResource(resource: string, on: string): boolean {
  return on !== resource && resource !== `${on}/Resource`;
}

/** One row per reason, sorted by reason; rules and resources sorted, each resource once. */
export function groupByReason(acknowledged: readonly AcknowledgedFinding[]): ReasonGroup[] {
  const byReason = new Map<string, AcknowledgedFinding[]>();
  for (const a of acknowledged) {
    const group = byReason.get(a.reason) ?? [];
    group.push(a);
    byReason.set(a.reason, group);
  }
  return [...byReason.entries()]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([reason, acks]) => ({
      reason,
      rules: sortedUnique(acks.map((a) => a.ruleId)),
      findings: acks.length,
      resources: sortedUnique(acks.map((a) => a.resource)).map((resource) => {
        const mine = acks.filter((a) => a.resource === resource);
        return {
          resource,
          acknowledgedOn: sortedUnique(
            mine.map((a) => a.acknowledgedOn).filter((on) => isWiderThanResource(resource, on)),
          ),
          rules: sortedUnique(mine.map((a) => a.ruleId)),
        };
      }),
    }));
}

/** Every acknowledgement of one stack, all packs together. */
export function acknowledgementsOfStack(stack: StackResult): AcknowledgedFinding[] {
  return stack.packs.flatMap((p) => p.acknowledged);
}

/** The fleet-wide table: one row per reason with its rules, number of findings and stacks, sorted by reason. */
export function fleetAcknowledgementsByReason(report: ComplianceReport): FleetReasonGroup[] {
  const rows = new Map<string, { rules: string[]; findings: number; stacks: string[] }>();
  for (const stack of report.stacks) {
    for (const a of acknowledgementsOfStack(stack)) {
      const row = rows.get(a.reason) ?? { rules: [], findings: 0, stacks: [] };
      row.rules.push(a.ruleId);
      row.findings += 1;
      if (!row.stacks.includes(stack.stack)) row.stacks.push(stack.stack);
      rows.set(a.reason, row);
    }
  }
  return [...rows.entries()]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([reason, row]) => ({ reason, rules: sortedUnique(row.rules), findings: row.findings, stacks: row.stacks }));
}
