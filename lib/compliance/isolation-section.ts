/**
 * The tenant isolation section of the report, from the {@link IsolationMatrix}: per isolation model the
 * cross-tenant cells denied and the own cells allowed, the expected cross-tenant accesses with their reasons, every
 * failing cell with the statements that allow it, and what the matrix does not cover.
 */
import { type Block, BREAK, code, joined, type Section, strong, text } from './document-model';
import type { IsolationMatrix } from './isolation-matrix';

const percent = (n: number, of: number) => (of === 0 ? '—' : `${((100 * n) / of).toFixed(n === of ? 0 : 1)}%`);

/** The rule id a failing cell is reported under (in the validation report and the section). */
export const ISOLATION_RULE_ID = 'Switchboard-TenantIsolation';

/** The section, titled "Tenant isolation". */
export function isolationSection(m: IsolationMatrix, anchor: string): Section {
  const blocks: Block[] = [];
  const failing = m.findings.length;
  blocks.push({
    kind: 'paragraph',
    content: [
      text(
        `Every role of the app (${m.principals} principals, pool sessions counted per tenant) evaluated offline against every tenant's data, from the synthesized templates. Failing cells: `,
      ),
      strong(String(failing)),
      text(failing ? ` (rule ${ISOLATION_RULE_ID}: they fail the synth).` : '.'),
    ],
  });
  blocks.push({
    kind: 'table',
    head: [
      [text('isolation')],
      [text('tenants')],
      [text('cross-tenant cells denied')],
      [text('excepted')],
      [text('own cells allowed')],
    ],
    numeric: [1, 3],
    rows: m.summary.map((s) => ({
      cells: [
        [text(s.model)],
        [text(String(s.tenants))],
        [text(`${s.cross.denied} / ${s.cross.total} (${percent(s.cross.denied, s.cross.total)})`)],
        [text(String(s.cross.excepted))],
        [text(`${s.own.allowed} / ${s.own.total} (${percent(s.own.allowed, s.own.total)})`)],
      ],
      alert: s.cross.denied !== s.cross.total || s.own.allowed !== s.own.total,
    })),
  });
  blocks.push({
    kind: 'paragraph',
    content: [
      text('Tenants: '),
      ...joined(
        m.tenants.map((t) => [code(t.tenant), text(` (${t.model}${t.probe ? ', stand-in' : ''})`)]),
        text(', '),
      ),
      text('.'),
    ],
  });
  blocks.push({ kind: 'heading', text: 'Expected cross-tenant access' });
  blocks.push({
    kind: 'table',
    head: [[text('exception')], [text('reason')], [text('principals')], [text('cells')]],
    numeric: [3],
    rows: m.exceptions.map((e) => ({
      cells: [
        [code(e.id)],
        [text(e.reason)],
        e.principals.length
          ? joined(
              e.principals.map((p) => [code(p)]),
              BREAK,
            )
          : [text('none (unused)')],
        [text(String(e.cells))],
      ],
    })),
  });
  if (failing) {
    blocks.push({ kind: 'heading', text: `Failing cells: ${failing}` });
    blocks.push({
      kind: 'table',
      head: [
        [text('problem')],
        [text('principal')],
        [text('tenant')],
        [text('data')],
        [text('actions')],
        [text('allowed by')],
      ],
      rows: m.findings.map((f) => ({
        cells: [
          [text(f.problem)],
          [code(f.principal)],
          [text(`${f.tenant} (${f.model})`)],
          [text(`${f.kind}: `), code(f.resource)],
          joined(
            f.actions.map((a) => [code(a)]),
            BREAK,
          ),
          f.statements.length
            ? joined(
                f.statements.map((s) => [code(s)]),
                BREAK,
              )
            : [text('—')],
        ],
        alert: true,
      })),
    });
  }
  blocks.push({ kind: 'heading', text: 'What the matrix covers' });
  blocks.push({ kind: 'list', items: m.notes.map((n) => [text(n)]) });
  return { title: 'Tenant isolation', anchor, blocks };
}
