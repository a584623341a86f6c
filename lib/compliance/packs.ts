/** The compliance packs every stack is checked against, in report order. */
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  type NagPack,
  NIST80053R5Checks,
  PCIDSS321Checks,
  ServerlessChecks,
} from 'cdk-nag';
import { SwitchboardChecks } from './switchboard-checks';

/** Pack name → factory. Fresh instances per run: a pack keeps state between `validateScope` calls. */
export const PACKS: ReadonlyArray<{ readonly name: string; readonly create: () => NagPack }> = [
  { name: 'AwsSolutions', create: () => new AwsSolutionsChecks() },
  { name: 'HIPAA.Security', create: () => new HIPAASecurityChecks() },
  { name: 'NIST.800.53.R5', create: () => new NIST80053R5Checks() },
  { name: 'PCI.DSS.321', create: () => new PCIDSS321Checks() },
  { name: 'Serverless', create: () => new ServerlessChecks() },
  { name: 'Switchboard', create: () => new SwitchboardChecks() },
];
