/** The export of labelled examples (the flywheel): decided reviews in decision order, one JSON line each. */
import { checkedCursor, escapedBytes, fitToResponse, type ReviewReadDeps } from './listing';
import type { ReviewItem } from './ports';
import { exampleOf } from './views';

/** A page of the export: JSON lines (each ending in a newline; empty when none) and the next page's cursor. */
export interface ExportPage {
  readonly jsonl: string;
  readonly next?: string;
}

const labelled = (r: ReviewItem) => r.status === 'approved' || r.status === 'edited' || r.status === 'rejected';

/** A page of labelled examples (expired and failed reviews are skipped, their places still paged over). */
export async function exportExamples(deps: ReviewReadDeps, q: { limit: number; cursor?: string }): Promise<ExportPage> {
  const page = await deps.store.listDecided(q.limit, checkedCursor(q.cursor, 'decided'));
  const fitted = fitToResponse(
    deps,
    page,
    'decided',
    (r) => (labelled(r) ? JSON.stringify(exampleOf(r)) : ''),
    (line) => escapedBytes(line),
  );
  const lines = fitted.items.filter((l) => l !== '');
  return { jsonl: lines.length ? `${lines.join('\n')}\n` : '', ...(fitted.next ? { next: fitted.next } : {}) };
}
