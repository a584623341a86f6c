/**
 * Runs the compliance packs over each stack and builds the compliance report: per stack and pack, the
 * rules checked, the unacknowledged findings and every acknowledgement with its reason. Sorted
 * throughout, so two releases' reports diff cleanly. This is the JSON report; `render-markdown.ts` and
 * `render-html.ts` present it to a reviewer.
 */
import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { CapacityReport } from '../capacity/types';
import { buildIsolationMatrix, type IsolationMatrix } from './isolation-matrix';
import { PACKS } from './packs';
import type { StackTemplate } from './template-resolver';

export interface Finding {
  readonly ruleId: string;
  readonly severity: 'error' | 'warning';
  readonly description: string;
  readonly resources: readonly string[];
}
export interface AcknowledgedFinding {
  readonly ruleId: string;
  readonly resource: string;
  /** Construct the acknowledgement was made on (the resource or an ancestor). */
  readonly acknowledgedOn: string;
  readonly reason: string;
}
export interface PackResult {
  readonly pack: string;
  readonly rulesChecked: readonly string[];
  readonly findings: readonly Finding[];
  readonly acknowledged: readonly AcknowledgedFinding[];
}
export interface StackResult {
  readonly stack: string;
  readonly resources: number;
  readonly packs: readonly PackResult[];
}
/** What a partial report covers: one tenant's stack and the platform stack. */
export interface PartialScope {
  /** The tenant id of `cdk synth -c tenant=<id>`. */
  readonly only: string;
}
/** The compliance report of one synth, as written to `compliance-report.json`. */
export interface ComplianceReport {
  /** Says "partial" when the report is. */
  readonly title: string;
  /**
   * `{ only }` when a single-tenant synth wrote the report (it covers that tenant and the platform stack only,
   * and replaced the fleet report in the same folder); `false` for a full report of the fleet.
   */
  readonly partial: false | PartialScope;
  readonly packs: readonly string[];
  /** Pack name → where its rules are documented: a URL, or a file path in this repository. */
  readonly packDocs: Readonly<Record<string, string>>;
  readonly stacks: readonly StackResult[];
  readonly totals: { readonly findings: number; readonly acknowledged: number };
  /** The capacity model's report, as given (absent when none was given). */
  readonly capacity?: CapacityReport;
  /**
   * The tenant isolation matrix of the synthesized templates (isolation-matrix.ts); its failing cells fail the
   * synth. Absent when no templates were given.
   */
  readonly isolation?: IsolationMatrix;
}

const ACK_KEY = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;

/** Finds the acknowledgement of `ruleId` on `node` or its nearest ancestor, as cdk-nag does. */
function findAcknowledgement(node: IConstruct, ruleId: string): { on: string; reason: string } | undefined {
  let cur: IConstruct | undefined = node;
  while (cur) {
    for (const entry of cur.node.metadata) {
      if (entry.type !== ACK_KEY || !entry.data) continue;
      for (const [k, reason] of Object.entries(entry.data as Record<string, string>)) {
        if (k.replace(/^annotation::/i, '') === ruleId) return { on: cur.node.path, reason };
      }
    }
    cur = cur.node.scope;
  }
  return undefined;
}

/**
 * Runs one pack on one scope, recording the rules it applied and the acknowledgements it honoured.
 * It hooks the pack's (private) `isAcknowledged` and `applyRule`; a test guards that the hook still sees
 * every acknowledgement when cdk-nag is upgraded.
 */
export function runPack(pack: NagPack, scope: IConstruct): PackResult {
  const rules = new Set<string>();
  const acknowledged: AcknowledgedFinding[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: hooking cdk-nag internals on purpose (see above)
  const p = pack as any;
  const applyRule = p.applyRule.bind(pack);
  p.applyRule = (params: { ruleSuffixOverride?: string; rule: { name: string } }) => {
    rules.add(`${p.packName}-${params.ruleSuffixOverride ?? params.rule.name}`);
    applyRule(params);
  };
  p.isAcknowledged = (resource: IConstruct, ruleId: string) => {
    const hit = findAcknowledgement(resource, ruleId);
    if (hit) acknowledged.push({ ruleId, resource: resource.node.path, acknowledgedOn: hit.on, reason: hit.reason });
    return hit !== undefined;
  };
  const result = pack.validateScope(scope);
  const findings: Finding[] = result.violations.map((v) => ({
    ruleId: v.ruleName,
    severity: v.severity === 'error' ? 'error' : 'warning',
    description: v.description,
    resources: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?').sort(),
  }));
  const byId = (a: { ruleId: string }, b: { ruleId: string }) => a.ruleId.localeCompare(b.ruleId);
  return {
    pack: p.packName,
    rulesChecked: [...rules].sort(),
    findings: findings.sort(byId),
    acknowledged: acknowledged.sort((a, b) => byId(a, b) || a.resource.localeCompare(b.resource)),
  };
}

function stacksOf(root: IConstruct): Stack[] {
  return root.node
    .findAll()
    .filter((c): c is Stack => Stack.isStack(c))
    .sort((a, b) => a.stackName.localeCompare(b.stackName));
}

/** Options of {@link buildComplianceReport}. */
export interface ComplianceReportOptions {
  /**
   * The synth built one tenant only (`cdk synth -c tenant=<id>`): the report is marked partial.
   * @default - a full report of the fleet
   */
  readonly partial?: PartialScope;
  /**
   * The capacity model's report: carried into the report as given and rendered in a capacity section.
   * @default - no capacity section
   */
  readonly capacity?: CapacityReport;
  /**
   * The app's synthesized templates: the report then carries the tenant isolation matrix.
   * @default - no isolation matrix
   */
  readonly templates?: readonly StackTemplate[];
}

/** Title of a report: a partial one says what it covers. */
export function reportTitle(partial: false | PartialScope): string {
  const title = 'Switchboard compliance report';
  return partial ? `${title} (partial: tenant ${partial.only} and the platform stack only)` : title;
}

/** Runs every pack over every stack under `root`. */
export function buildComplianceReport(root: IConstruct, options: ComplianceReportOptions = {}): ComplianceReport {
  const stacks: StackResult[] = stacksOf(root).map((stack) => ({
    stack: stack.stackName,
    resources: stack.node.findAll().filter((c) => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length,
    packs: PACKS.map((p) => runPack(p.create(), stack)),
  }));
  let findings = 0;
  let acknowledged = 0;
  for (const s of stacks) {
    for (const p of s.packs) {
      findings += p.findings.reduce((n, f) => n + f.resources.length, 0);
      acknowledged += p.acknowledged.length;
    }
  }
  const partial = options.partial ? { only: options.partial.only } : false;
  return {
    title: reportTitle(partial),
    partial,
    packs: PACKS.map((p) => p.name),
    packDocs: Object.fromEntries(PACKS.map((p) => [p.name, p.docs])),
    stacks,
    totals: { findings, acknowledged },
    ...(options.capacity ? { capacity: options.capacity } : {}),
    ...(options.templates ? { isolation: buildIsolationMatrix(options.templates) } : {}),
  };
}
