/**
 * The capacity section of the report, from the capacity model's {@link CapacityReport} (rendering only:
 * figures, order and verdicts are the model's): every quota against its limit, how many more tenants of each
 * plan fit, the silo and pooled models side by side with the pool cells' limits and cost, and what an idle
 * tenant costs a month, with the sources of limits and prices.
 */
import { QUOTA_IDS } from '../capacity/quotas';
import type {
  CapacityReport,
  IdleCostItem,
  ModelCapacity,
  ModelsReport,
  PoolCapacity,
  QuotaUse,
  Source,
} from '../capacity/types';
import { byCodeUnit } from './acknowledgement-groups';
import {
  type Block,
  BREAK,
  code,
  type Inline,
  type Inlines,
  joined,
  link,
  REPORT_DIR_TO_REPO,
  type Section,
  strong,
  text,
} from './document-model';

const MONEY = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 10 });

/**
 * `1.40`, `0.0000002`: cents at least, a tiny unit price never rounded to zero. No currency sign: the
 * headings name the currency (and `$…$` reads as math in some Markdown viewers).
 */
export const money = (n: number): string => MONEY.format(n);

const LIMIT_FROM: Record<QuotaUse['limitFrom'], string> = { 'aws-default': 'AWS default', 'cdk.json': 'cdk.json' };

/**
 * A source as "<host>, read <date>" (or "<host><path>" with `withPath`), linked. A path of this repository (a
 * Switchboard limit read from code) is linked from the report's folder, shown as code.
 */
function sourceLink(s: Source, withPath = false): Inlines {
  let label: Inline;
  try {
    const u = new URL(s.url);
    label = link(u.host ? (withPath ? `${u.host}${u.pathname}` : u.host) : s.url, s.url);
  } catch {
    label = link(s.url, `${REPORT_DIR_TO_REPO}/${s.url}`, true);
  }
  return [label, text(`, read ${s.readOn}`)];
}

/** A whole number with thousands separators (`150,000`). */
const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Share of a limit from which a quota is shown as near (with its remedy): the point at which a growing fleet
 * should act before its next deploy fails.
 */
export const NEAR_SHARE = 0.8;

const isNear = (q: QuotaUse) => !q.crossed && q.limit > 0 && q.used >= NEAR_SHARE * q.limit;

const dash: Inlines = [text('—')];

function quotaTable(c: CapacityReport): Block {
  return {
    kind: 'table',
    head: [
      [text('quota')],
      [text('service')],
      [text('kind')],
      [text('used')],
      [text('limit')],
      [text('limit from')],
      [text('headroom')],
      [text('crossed')],
      [text('pushed over by')],
      [text('source')],
    ],
    numeric: [3, 4, 6],
    rows: c.quotas.map((q) => ({
      cells: [
        [text(q.name), BREAK, code(q.id)],
        [text(q.service)],
        [text(q.kind)],
        [text(String(q.used))],
        [text(String(q.limit))],
        [text(LIMIT_FROM[q.limitFrom] ?? q.limitFrom)],
        [text(String(q.headroom))],
        [
          q.crossed ? strong('yes') : text(isNear(q) ? 'near' : 'no'),
          ...((q.crossed || isNear(q)) && q.remedy ? [BREAK, text(q.remedy)] : []),
        ],
        q.pushedOverBy.length ? [text(q.pushedOverBy.join(', '))] : dash,
        sourceLink(q.source),
      ],
      alert: q.crossed,
    })),
  };
}

function headroomTable(c: CapacityReport): Block {
  const quota = (id: string): Inlines => {
    const q = c.quotas.find((x) => x.id === id);
    return q ? [text(q.name), BREAK, code(id)] : [code(id)];
  };
  return {
    kind: 'table',
    head: [[text('plan')], [text('more tenants')], [text('first ceiling')]],
    numeric: [1],
    rows: c.headroomByPlan.map((h) => ({
      cells: [
        [text(h.plan)],
        [text(h.moreTenants === null ? 'no deploy-time limit' : String(h.moreTenants))],
        h.firstCeiling === null ? dash : quota(h.firstCeiling),
      ],
      alert: h.moreTenants !== null && h.moreTenants <= 0,
    })),
  };
}

/** A quota of the report by id: its name and id, or the id alone when the report does not list it. */
function quotaName(c: CapacityReport, id: string): Inlines {
  const q = c.quotas.find((x) => x.id === id);
  return q ? [text(`${q.name} `), code(id)] : [code(id)];
}

/** "bound by <quota> `<id>`" and, where the report has it, the quota's source page. */
function boundBy(c: CapacityReport, id: string): Inlines {
  const q = c.quotas.find((x) => x.id === id);
  return [text('bound by '), ...quotaName(c, id), ...(q ? [BREAK, ...sourceLink(q.source)] : [])];
}

type FitField = 'perRegion' | 'perRegionAtBest' | 'perAccount';
const CEILING_OF: Record<FitField, 'perRegionCeiling' | 'perRegionAtBestCeiling' | 'perAccountCeiling'> = {
  perRegion: 'perRegionCeiling',
  perRegionAtBest: 'perRegionAtBestCeiling',
  perAccount: 'perAccountCeiling',
};

/** A `TenantsFit` figure with the quota that binds it; for the pool, the cells it comes from. */
function fitCell(c: CapacityReport, m: ModelCapacity, field: FitField): Inlines {
  const n = m.fit[field];
  if (!Number.isFinite(n)) return [text('no deploy-time limit')];
  const pool = m.model === 'pool' ? (m as PoolCapacity) : undefined;
  const cells = pool ? [text(` (${count(pool.cellsFit[field])} cells of ${count(pool.tenantsPerCell)})`)] : [];
  return [text(count(n)), ...cells, BREAK, ...boundBy(c, m.fit[CEILING_OF[field]])];
}

/** A per-tenant row's label with the quota its figure counts against: the limit and its source. */
function perTenantLabel(c: CapacityReport, label: string, id: string): Inlines {
  const q = c.quotas.find((x) => x.id === id);
  if (!q) return [text(label), BREAK, code(id)];
  return [
    text(label),
    BREAK,
    text(`against ${q.name} `),
    code(id),
    text(`: ${count(q.limit)} (${LIMIT_FROM[q.limitFrom] ?? q.limitFrom})`),
    BREAK,
    ...sourceLink(q.source),
  ];
}

/** Quota ids the per-tenant rows of the models table count against. */
const PER_TENANT_QUOTA = {
  resources: QUOTA_IDS.resourcesPerStack,
  apiKeys: QUOTA_IDS.apiKeys,
  usagePlans: QUOTA_IDS.usagePlans,
  concurrency: QUOTA_IDS.concurrency,
  throttle: QUOTA_IDS.accountThrottle,
} as const;

/** The silo and pooled models side by side: how many tenants fit, what one adds and costs. */
function modelsTable(c: CapacityReport, m: ModelsReport): Block {
  const { silo, pool } = m;
  const r = pool.atFullRate;
  const row = (label: Inlines, s: Inlines, p: Inlines) => ({ cells: [label, s, p] });
  const idle = (x: ModelCapacity): Inlines => [
    text(money(x.idleMonthlyUsdPerTenant)),
    BREAK,
    ...joined(x.idleItems.map(itemLine), BREAK),
  ];
  return {
    kind: 'table',
    head: [
      [text('figure')],
      [text(`silo: a stack per tenant (a ${silo.samplePlan} tenant)`)],
      [text(`pooled: tenants in pool cells (a ${pool.samplePlan} tenant)`)],
    ],
    rows: [
      row([text('tenants in the fleet')], [text(count(silo.tenants))], [text(count(pool.tenants))]),
      row(
        [text('tenants per region, AWS defaults (and the values raised in cdk.json)')],
        fitCell(c, silo, 'perRegion'),
        fitCell(c, pool, 'perRegion'),
      ),
      row(
        [text('tenants per region at best (every adjustable quota raised: only quotas AWS does not raise bind)')],
        fitCell(c, silo, 'perRegionAtBest'),
        fitCell(c, pool, 'perRegionAtBest'),
      ),
      row(
        [text('tenants per account, all regions (only account-wide quotas bind)')],
        fitCell(c, silo, 'perAccount'),
        fitCell(c, pool, 'perAccount'),
      ),
      row(
        perTenantLabel(c, 'CloudFormation resources per tenant', PER_TENANT_QUOTA.resources),
        [text(count(silo.resourcesPerTenant))],
        [text(count(pool.resourcesPerTenant))],
      ),
      row(
        perTenantLabel(c, 'API Gateway API keys per tenant', PER_TENANT_QUOTA.apiKeys),
        [text(count(silo.apiKeysPerTenant))],
        [text(count(pool.apiKeysPerTenant))],
      ),
      row(
        perTenantLabel(c, 'API Gateway usage plans per tenant', PER_TENANT_QUOTA.usagePlans),
        [text(count(silo.usagePlansPerTenant))],
        [text(count(pool.usagePlansPerTenant))],
      ),
      row([text(`idle cost per tenant (${c.idleCost.currency} a month)`)], idle(silo), idle(pool)),
      row(
        [text(`fixed cost of shared infrastructure per tenant place (${c.idleCost.currency} a month)`)],
        [text('none: a silo tenant’s stack is its own')],
        [
          text(
            `${money(pool.fixedCostPerPlaceUsd)} (a cell’s ${money(pool.cellFixedMonthlyUsd)} over its ${count(pool.tenantsPerCell)} places)`,
          ),
        ],
      ),
      row(
        [text('tenants at their full rate at once (every request a full-length answer of the default tier)')],
        [
          text(
            'not computed: a silo tenant’s usage-plan rate counts against the account throttle above, and the concurrency it reserves is its own',
          ),
        ],
        [
          text(`${count(r.tenantsByConcurrency)}, `),
          ...boundBy(c, PER_TENANT_QUOTA.concurrency),
          BREAK,
          text(`${count(r.tenantsByApiThrottle)}, `),
          ...boundBy(c, PER_TENANT_QUOTA.throttle),
          BREAK,
          text(
            `each at ${count(r.ratePerTenant)} requests/s × ${r.secondsPerRequest} s a request = ${r.concurrencyPerTenant} executions; ` +
              `a pooled tenant’s rate is at most ${count(pool.rateCeilingPerTenant)} requests/s, and one above its rate is refused, not its neighbours`,
          ),
        ],
      ),
    ],
  };
}

/** The pool cells: what bounds a cell's tenants, how many cells there are and reach, and what one costs idle. */
function poolCellBlocks(c: CapacityReport, pool: PoolCapacity): Block[] {
  const cf = pool.cellsFit;
  return [
    { kind: 'heading', text: 'Pool cells' },
    {
      kind: 'paragraph',
      content: [
        text(
          `Configured (cdk.json poolCells): ${count(pool.cells)} ${pool.cells === 1 ? 'cell' : 'cells'}, ` +
            `${count(pool.places)} places, ${count(pool.freePlaces)} free. A cell holds ${count(pool.tenantsPerCell)} tenants: ` +
            'the smallest of the limits below. A region takes ',
        ),
        text(`${count(cf.perRegion)} cells at the defaults (`),
        ...quotaName(c, cf.perRegionCeiling),
        text(`), ${count(cf.perRegionAtBest)} at best (`),
        ...quotaName(c, cf.perRegionAtBestCeiling),
        text(`); an account ${count(cf.perAccount)} (`),
        ...quotaName(c, cf.perAccountCeiling),
        text(
          `). Target: ${count(pool.targetPerRegion)} pooled tenants per region, ${count(pool.cellsForTarget)} cells; ` +
            `the configured cells ${pool.configuredCellsReachTarget ? 'hold' : 'do not hold'} them, and a region ` +
            `${pool.regionReachesTargetAtDefaults ? 'takes' : 'does not take'} that many cells at the defaults.`,
        ),
      ],
    },
    {
      kind: 'table',
      head: [[text('cell limit')], [text('tenants per cell')], [text('binds')], [text('why')], [text('source')]],
      numeric: [1],
      rows: pool.cellLimits.map((l) => ({
        cells: [
          [text(l.name), BREAK, code(l.id)],
          [text(count(l.tenants))],
          [l.id === pool.bindingCellLimit ? strong('yes') : text('no')],
          [text(l.why)],
          sourceLink(l.source),
        ],
      })),
    },
    { kind: 'heading', text: `Cost of an idle pool cell (${c.idleCost.currency} a month)` },
    {
      kind: 'paragraph',
      content: [
        text(
          `${money(pool.cellFixedMonthlyUsd)} a cell, ${money(pool.fixedCostPerPlaceUsd)} per place ` +
            `(${count(pool.tenantsPerCell)} places), whether or not its tenants send requests:`,
        ),
      ],
    },
    { kind: 'list', items: pool.cellFixedItems.map(itemLine) },
  ];
}

/** The models part of the section: the comparison, then the pool cells. */
function modelsBlocks(c: CapacityReport, m: ModelsReport): Block[] {
  return [
    { kind: 'heading', text: 'Silo and pooled tenants' },
    {
      kind: 'paragraph',
      content: [
        text(
          'Silo: every tenant has a stack of its own. Pooled: tenants share pool cells (stacks Switchboard-Pool-<n>) ' +
            'and have no resources of their own, only items in the control plane’s registry. ' +
            `An idle silo tenant costs as much as ${count(Math.round(m.idleCostRatio))} idle pooled tenants ` +
            '(the cells’ fixed cost apart).',
        ),
      ],
    },
    modelsTable(c, m),
    ...poolCellBlocks(c, m.pool),
  ];
}

/** A bill line's quantity: whole as it is, a fraction (gigabytes of a few items) to 3 significant digits. */
const quantity = (q: number): string => (Number.isInteger(q) ? String(q) : String(Number(q.toPrecision(3))));

/** One bill line as "<item>: <quantity> × <unit> = <amount>". */
const itemLine = (i: IdleCostItem): Inlines => [
  text(`${i.item}: ${quantity(i.quantity)} × ${money(i.unitUsd)} = ${money(i.usd)}`),
];

const ISOLATION: Record<NonNullable<CapacityReport['idleCost']['tenants'][number]['isolation']>, string> = {
  silo: 'silo (own stack)',
  pool: 'pool (registry items)',
};

function idleCostTable(c: CapacityReport): Block {
  return {
    kind: 'table',
    head: [
      [text('tenant')],
      [text('plan')],
      [text('isolation')],
      [text(`monthly ${c.idleCost.currency}`)],
      [text('items')],
    ],
    numeric: [3],
    rows: c.idleCost.tenants.map((t) => ({
      cells: [
        [text(t.tenant)],
        [text(t.plan)],
        t.isolation ? [text(ISOLATION[t.isolation] ?? t.isolation)] : dash,
        [text(money(t.monthlyUsd))],
        joined(t.items.map(itemLine), BREAK),
      ],
    })),
  };
}

/** The capacity section under `anchor`. */
export function capacitySection(c: CapacityReport, anchor: string): Section {
  const crossed = c.quotas.filter((q) => q.crossed);
  const byPlan = Object.entries(c.tenants.byPlan)
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([plan, n]) => `${plan} ${n}`);
  const blocks: Block[] = [];
  if (c.partial) {
    blocks.push({
      kind: 'warning',
      content: [
        strong('Partial capacity figures.'),
        text(" Only some tenant files were read: the use below is not the fleet's."),
      ],
    });
  }
  const crossedText: Inline[] = crossed.length
    ? [
        strong(`${crossed.length} crossed`),
        text(` (${crossed.filter((q) => q.kind === 'deploy').length} deploy-time, `),
        text(`${crossed.filter((q) => q.kind === 'runtime').length} runtime)`),
      ]
    : [text('none crossed')];
  blocks.push({
    kind: 'paragraph',
    content: [
      text(`Tenants: ${c.tenants.total}${byPlan.length ? ` (${byPlan.join(', ')})` : ''}. `),
      text(`Quotas: ${c.quotas.length}, `),
      ...crossedText,
      text('.'),
    ],
  });
  blocks.push({ kind: 'heading', text: 'Quotas' });
  blocks.push({
    kind: 'paragraph',
    content: [
      text(
        'deploy: crossing it makes a deploy fail. runtime: crossing it throttles requests at peak. ' +
          'Headroom is limit − used (negative when crossed); "pushed over by" names the last tenants counted. ' +
          `Near: ${NEAR_SHARE * 100} % of the limit or more used; a crossed or near limit that is not raised in ` +
          'Service Quotas says what to do instead.',
      ),
    ],
  });
  blocks.push(c.quotas.length ? quotaTable(c) : { kind: 'paragraph', content: [text('No quotas counted.')] });
  blocks.push({ kind: 'heading', text: 'Tenants that still fit per plan' });
  blocks.push(c.headroomByPlan.length ? headroomTable(c) : { kind: 'paragraph', content: [text('No plans counted.')] });
  if (c.models) blocks.push(...modelsBlocks(c, c.models));
  const fleetIdle = c.idleCost.tenants.reduce((n, t) => n + t.monthlyUsd, 0);
  blocks.push({ kind: 'heading', text: `Idle cost per tenant (${c.idleCost.currency} a month)` });
  blocks.push({
    kind: 'paragraph',
    content: [
      text(
        `The fixed monthly cost of a tenant that sends no requests; the ${c.idleCost.tenants.length} below together: ` +
          `${money(fleetIdle)} ${c.idleCost.currency}.`,
      ),
    ],
  });
  if (c.idleCost.tenants.length) blocks.push(idleCostTable(c));
  blocks.push({ kind: 'heading', text: 'Price sources' });
  blocks.push(
    c.idleCost.priceSources.length
      ? { kind: 'list', items: c.idleCost.priceSources.map((p) => sourceLink(p, true)) }
      : { kind: 'paragraph', content: [text('None given.')] },
  );
  return { title: 'Capacity', anchor, blocks };
}
