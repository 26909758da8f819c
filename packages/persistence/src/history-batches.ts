import type { HistoryRecord } from "./store.ts";

/**
 * Rows per statement when appending history: 3 parameters a row keeps even large batches far below
 * SQLite's 32766 and PostgreSQL's 65535 bound parameters.
 */
const HISTORY_ROWS_PER_STATEMENT = 500;

/** History entries of one thread written by one statement. */
export interface HistoryBatch {
  tenantId: string;
  threadId: string;
  rows: HistoryRecord[];
}

/** Splits entries by thread (usually one) and into statements of bounded size, keeping their order. */
export function historyBatches(entries: HistoryRecord[]): HistoryBatch[] {
  const byThread = new Map<string, HistoryBatch[]>();
  const batches: HistoryBatch[] = [];
  for (const e of entries) {
    const key = `${e.tenantId}\u0000${e.threadId}`;
    let list = byThread.get(key);
    if (!list) byThread.set(key, (list = []));
    let batch = list.at(-1);
    if (!batch || batch.rows.length >= HISTORY_ROWS_PER_STATEMENT) {
      batch = { tenantId: e.tenantId, threadId: e.threadId, rows: [] };
      list.push(batch);
      batches.push(batch);
    }
    batch.rows.push(e);
  }
  return batches;
}
