// Cursor paging: the API gives the next page's cursor; going back needs the cursors already
// used, kept as a stack.

import { useCallback, useState } from 'preact/hooks';

export interface CursorPaging {
  readonly cursor: string | undefined;
  readonly page: number;
  next(cursor: string): void;
  previous(): void;
  reset(): void;
}

/** Paging that starts again at the first page whenever `key` (the filters, sort, size) changes. */
export function useCursorPaging(key: string): CursorPaging {
  const [state, setState] = useState<{ key: string; stack: Array<string | undefined> }>({ key, stack: [undefined] });
  const stack = state.key === key ? state.stack : [undefined];
  const current = (s: { key: string; stack: Array<string | undefined> }) => (s.key === key ? s.stack : [undefined]);
  const next = useCallback((c: string) => setState((s) => ({ key, stack: [...current(s), c] })), [key]);
  const previous = useCallback(() => setState((s) => ({ key, stack: current(s).length > 1 ? current(s).slice(0, -1) : current(s) })), [key]);
  const reset = useCallback(() => setState({ key, stack: [undefined] }), [key]);
  return { cursor: stack[stack.length - 1], page: stack.length, next, previous, reset };
}

interface PagerProps {
  readonly paging: CursorPaging;
  readonly nextCursor: string | null | undefined;
  readonly shown: number;
  readonly limit: number;
  readonly total?: number;
  readonly onLimit?: (n: number) => void;
  readonly noun: string;
}

export function Pager({ paging, nextCursor, shown, limit, total, onLimit, noun }: PagerProps) {
  const first = (paging.page - 1) * limit + (shown > 0 ? 1 : 0);
  const last = (paging.page - 1) * limit + shown;
  return (
    <nav class="pager" aria-label={`${noun} pages`} data-testid="pager">
      <span class="pager-info" data-testid="pager-info">
        {shown > 0 ? `${first.toLocaleString()}–${last.toLocaleString()}` : '0'}
        {total !== undefined ? ` of ${total.toLocaleString()}` : ''} {noun}
      </span>
      {onLimit ? (
        <label class="pager-limit">
          Rows
          <select value={String(limit)} onChange={(e) => onLimit(Number((e.target as HTMLSelectElement).value))}>
            {[25, 50, 100, 250, 500].map((n) => (
              <option value={String(n)}>{n}</option>
            ))}
          </select>
        </label>
      ) : null}
      <button type="button" class="btn btn-small" disabled={paging.page <= 1} onClick={paging.previous} data-testid="page-previous">
        ‹ Previous
      </button>
      <span class="pager-page">Page {paging.page}</span>
      <button type="button" class="btn btn-small" disabled={!nextCursor} onClick={() => nextCursor && paging.next(nextCursor)} data-testid="page-next">
        Next ›
      </button>
    </nav>
  );
}
