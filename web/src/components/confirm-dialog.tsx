// "Are you sure?" for destructive actions: the action runs from here, and its error stays
// in the dialog so the operator sees why it failed.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorBanner } from './error-banner';
import { Modal } from './modal';

interface ConfirmProps {
  readonly title: string;
  readonly children: ComponentChildren;
  readonly confirmLabel: string;
  readonly onConfirm: () => Promise<void>;
  readonly onClose: () => void;
  readonly danger?: boolean;
  readonly testid?: string;
}

export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onClose, danger = true, testid = 'confirm-dialog' }: ConfirmProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Modal
      title={title}
      onClose={onClose}
      testid={testid}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} data-testid="confirm-cancel">
            Cancel
          </button>
          <button type="button" class={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} disabled={busy} onClick={run} data-testid="confirm-ok">
            {busy ? 'Working…' : confirmLabel}
          </button>
        </>
      }
    >
      {children}
      <ErrorBanner error={error} testid="confirm-error" />
    </Modal>
  );
}
