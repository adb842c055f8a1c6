// What an operator sees of a binding (CLI, control channel, later the API): every stored
// field plus what is derived from the clock — remaining seconds and status (SPEC §2, §5).

import type { Binding, BindingStatus } from '../registrar/binding.js';
import type { BindingRecord } from '../store/store.js';

export interface BindingView extends BindingRecord {
  readonly remaining: number;
  readonly status: BindingStatus;
}

export function bindingView(b: Binding, nowMs: number, expiringShare: number): BindingView {
  return { ...b.toRecord(), remaining: b.remaining(nowMs), status: b.status(nowMs, expiringShare) };
}
