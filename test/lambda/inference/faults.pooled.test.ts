/** Faults F1–F13 and call deadlines (./faults-suite.ts) for pooled tenants. */
import { describeFaults } from './faults-suite';

describeFaults('pooled');
