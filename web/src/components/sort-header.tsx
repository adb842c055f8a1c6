// A sortable column header: a real button, with aria-sort telling screen readers the order.

import type { ComponentChildren } from 'preact';

export interface SortState<K extends string> {
  readonly sort: K;
  readonly order: 'asc' | 'desc';
}

interface SortHeaderProps<K extends string> {
  readonly field: K;
  readonly state: SortState<K>;
  readonly onSort: (s: SortState<K>) => void;
  readonly children: ComponentChildren;
}

export function SortHeader<K extends string>({ field, state, onSort, children }: SortHeaderProps<K>) {
  const active = state.sort === field;
  const next = active && state.order === 'asc' ? 'desc' : 'asc';
  return (
    <th aria-sort={active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none'} scope="col">
      <button type="button" class={`sort${active ? ' sort-active' : ''}`} title="Sort by this column" onClick={() => onSort({ sort: field, order: next })} data-testid={`sort-${field}`}>
        {children}
        {active ? (
          <span class="sort-mark" aria-hidden="true">
            {state.order === 'asc' ? '▲' : '▼'}
          </span>
        ) : null}
      </button>
    </th>
  );
}
