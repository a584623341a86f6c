/**
 * The capacity section of the report, from the capacity model's {@link CapacityReport} (rendering only:
 * figures, order and verdicts are the model's): every quota against its limit, how many more tenants of each
 * plan fit, and what an idle tenant costs a month, with the sources of limits and prices.
 */
import type { CapacityReport, QuotaUse, Source } from '../capacity/types';
import { byCodeUnit } from './acknowledgement-groups';
import {
  type Block,
  BREAK,
  code,
  type Inline,
  type Inlines,
  joined,
  link,
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

/** A source as "<host>, read <date>" (or "<host><path>" with `withPath`), linked. */
function sourceLink(s: Source, withPath = false): Inlines {
  let label = s.url;
  try {
    const u = new URL(s.url);
    if (u.host) label = withPath ? `${u.host}${u.pathname}` : u.host;
  } catch {
    // Not a URL: shown as given (and not linked, see link()).
  }
  return [link(label, s.url), text(`, read ${s.readOn}`)];
}

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
        [q.crossed ? strong('yes') : text('no')],
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

function idleCostTable(c: CapacityReport): Block {
  return {
    kind: 'table',
    head: [[text('tenant')], [text('plan')], [text(`monthly ${c.idleCost.currency}`)], [text('items')]],
    numeric: [2],
    rows: c.idleCost.tenants.map((t) => ({
      cells: [
        [text(t.tenant)],
        [text(t.plan)],
        [text(money(t.monthlyUsd))],
        joined(
          t.items.map((i) => [text(`${i.item}: ${i.quantity} × ${money(i.unitUsd)} = ${money(i.usd)}`)]),
          BREAK,
        ),
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
          'Headroom is limit − used (negative when crossed); "pushed over by" names the last tenants counted.',
      ),
    ],
  });
  blocks.push(c.quotas.length ? quotaTable(c) : { kind: 'paragraph', content: [text('No quotas counted.')] });
  blocks.push({ kind: 'heading', text: 'Tenants that still fit per plan' });
  blocks.push(c.headroomByPlan.length ? headroomTable(c) : { kind: 'paragraph', content: [text('No plans counted.')] });
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
