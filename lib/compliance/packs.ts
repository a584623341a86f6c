/** The compliance packs every stack is checked against, in report order, with where their rules are documented. */
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  type NagPack,
  NIST80053R5Checks,
  PCIDSS321Checks,
  ServerlessChecks,
} from 'cdk-nag';
import { SwitchboardDeployChecks } from './deploy-readiness';
import { SwitchboardChecks } from './switchboard-checks';

/** One compliance pack. */
export interface PackDefinition {
  /** The pack's name as cdk-nag prefixes its rule ids (`AwsSolutions` in `AwsSolutions-IAM5`). */
  readonly name: string;
  /** A fresh instance: a pack keeps state between `validateScope` calls. */
  readonly create: () => NagPack;
  /**
   * Where the pack's rules are documented, linked from the report instead of listing every rule: the
   * cdk-nag rules page for cdk-nag's packs, the source file's path in this repository for Switchboard's own.
   */
  readonly docs: string;
}

const CDK_NAG_RULES = 'https://github.com/cdklabs/cdk-nag/blob/main/RULES.md';

/** The packs, in report order. The one table of pack names, factories and rule documentation. */
export const PACKS: readonly PackDefinition[] = [
  { name: 'AwsSolutions', create: () => new AwsSolutionsChecks(), docs: `${CDK_NAG_RULES}#awssolutions` },
  { name: 'HIPAA.Security', create: () => new HIPAASecurityChecks(), docs: `${CDK_NAG_RULES}#hipaa-security` },
  { name: 'NIST.800.53.R5', create: () => new NIST80053R5Checks(), docs: `${CDK_NAG_RULES}#nist-800-53-rev-5` },
  { name: 'PCI.DSS.321', create: () => new PCIDSS321Checks(), docs: `${CDK_NAG_RULES}#pci-dss-321` },
  { name: 'Serverless', create: () => new ServerlessChecks(), docs: `${CDK_NAG_RULES}#serverless` },
  { name: 'Switchboard', create: () => new SwitchboardChecks(), docs: 'lib/compliance/switchboard-checks.ts' },
  {
    name: 'SwitchboardDeploy',
    create: () => new SwitchboardDeployChecks(),
    docs: 'lib/compliance/deploy-readiness.ts',
  },
];
