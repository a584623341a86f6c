/**
 * The compliance validation plugin: during every synth it runs the packs once per stack, writes
 * `compliance-report.json`, `compliance-report.md` and `compliance-report.html` into the cloud assembly
 * folder, and fails the synth on any unacknowledged finding (errors and warnings alike).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Aspects,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  type PolicyViolation,
  Stack,
  Token,
} from 'aws-cdk-lib';
import { WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { CapacityReport } from '../capacity/types';
import { ISOLATION_RULE_ID } from './isolation-section';
import { PACKS } from './packs';
import { renderComplianceHtml } from './render-html';
import { renderComplianceMarkdown } from './render-markdown';
import { buildComplianceReport, type ComplianceReport, type PartialScope } from './report';
import type { StackTemplate } from './template-resolver';

/** File names of the report inside the cloud assembly (`cdk.out`). */
export const REPORT_FILES = {
  markdown: 'compliance-report.md',
  json: 'compliance-report.json',
  html: 'compliance-report.html',
} as const;

/** Props of {@link CompliancePlugin}. */
export interface CompliancePluginProps {
  /**
   * The app was built for one tenant only (`cdk synth -c tenant=<id>`): the report says it is partial, in its
   * title, a warning line and the JSON (`partial: { only }`), since it replaces the fleet report in `cdk.out`.
   * @default - a full report of the fleet
   */
  readonly partial?: PartialScope;
  /**
   * The capacity model's report: written into the JSON as given and rendered in the Markdown and HTML
   * (quotas, tenants that still fit per plan, idle cost per tenant).
   * @default - no capacity section
   */
  readonly capacity?: CapacityReport;
}

/** Validation plugin: checks and reports. Register with `Validations.of(app).addPlugins(...)`. */
export class CompliancePlugin implements IPolicyValidationPlugin {
  readonly name = 'switchboard-compliance';
  readonly version = '1.0.0';
  readonly ruleIds = [...PACKS.map((p) => p.name), ISOLATION_RULE_ID];
  /** The last report built (for tests and tools). */
  lastReport?: ComplianceReport;

  private readonly partial?: PartialScope;
  private readonly capacity?: CapacityReport;

  constructor(
    private readonly app: IConstruct,
    props: CompliancePluginProps = {},
  ) {
    this.partial = props.partial;
    this.capacity = props.capacity;
    // Keep acknowledgements visible in the templates themselves (Metadata.cdk_nag.rules_to_suppress).
    Aspects.of(app).add(new WriteNagSuppressionsToCloudFormationAspect());
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const root = context.appConstruct ?? this.app;
    const report = buildComplianceReport(root, {
      partial: this.partial,
      capacity: this.capacity,
      templates: templatesOf(root, context.templatePaths),
    });
    this.lastReport = report;
    const outdir = context.templatePaths[0] ? path.dirname(context.templatePaths[0]) : undefined;
    if (outdir) {
      fs.writeFileSync(path.join(outdir, REPORT_FILES.json), `${JSON.stringify(report, null, 2)}\n`);
      fs.writeFileSync(path.join(outdir, REPORT_FILES.markdown), renderComplianceMarkdown(report));
      fs.writeFileSync(path.join(outdir, REPORT_FILES.html), renderComplianceHtml(report));
    }
    const violations: PolicyViolation[] = [];
    for (const s of report.stacks) {
      for (const p of s.packs) {
        for (const f of p.findings) {
          violations.push({
            ruleName: f.ruleId,
            description: `${f.description} (stack ${s.stack})`,
            severity: f.severity,
            violatingResources: f.resources.map((r) => ({
              resourceLogicalId: r,
              templatePath: '',
              locations: ['Properties'],
              constructPath: r,
            })),
          } as PolicyViolation);
        }
      }
    }
    for (const f of report.isolation?.findings ?? []) {
      violations.push({
        ruleName: ISOLATION_RULE_ID,
        description: `Tenant isolation: ${f.problem}: ${f.principal} → tenant ${f.tenant} (${f.model}) ${f.kind} ${f.resource}: ${f.actions.join(', ') || 'every action'}${f.statements.length ? ` (by ${f.statements.join(', ')})` : ''}`,
        severity: 'error',
        violatingResources: [
          { resourceLogicalId: f.principal, templatePath: '', locations: ['Properties'], constructPath: f.principal },
        ],
      } as PolicyViolation);
    }
    return { success: violations.length === 0, violations };
  }
}

/** The synthesized templates of the app's stacks, with the region and account each was synthesized for. */
function templatesOf(root: IConstruct, templatePaths: readonly string[]): StackTemplate[] {
  const stacks = root.node.findAll().filter((c): c is Stack => Stack.isStack(c));
  return templatePaths.flatMap((file) => {
    const stack = stacks.find((s) => s.templateFile === path.basename(file));
    if (!stack) return [];
    const known = (v: string) => (Token.isUnresolved(v) ? undefined : v);
    return [
      {
        stackName: stack.stackName,
        template: JSON.parse(fs.readFileSync(file, 'utf8')),
        region: known(stack.region),
        account: known(stack.account),
      },
    ];
  });
}
