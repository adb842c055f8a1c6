// A modal dialog or side drawer on the native <dialog> element: the browser traps focus,
// Escape closes it, and focus goes back where it was when it closes.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface ModalProps {
  readonly title: string;
  readonly onClose: () => void;
  readonly children: ComponentChildren;
  readonly variant?: 'dialog' | 'drawer';
  readonly testid?: string;
  /** Buttons at the bottom (dialogs) — rendered in a footer. */
  readonly footer?: ComponentChildren;
  readonly wide?: boolean;
}

export function Modal({ title, onClose, children, variant = 'dialog', testid, footer, wide }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      closeRef.current();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected) setTimeout(() => opener.focus(), 0);
    };
  }, []);

  const onBackdrop = (e: MouseEvent) => {
    // A click on the ::backdrop lands on the dialog element itself.
    if (e.target === ref.current) closeRef.current();
  };

  const titleId = `${testid ?? 'modal'}-title`;
  return (
    <dialog
      ref={ref}
      class={`modal modal-${variant}${wide ? ' modal-wide' : ''}`}
      aria-labelledby={titleId}
      data-testid={testid}
      onClick={onBackdrop}
    >
      <div class="modal-frame">
        <header class="modal-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" class="btn btn-icon" aria-label="Close" title="Close (Esc)" onClick={() => closeRef.current()} data-testid="modal-close">
            ×
          </button>
        </header>
        <div class="modal-body">{children}</div>
        {footer ? <footer class="modal-footer">{footer}</footer> : null}
      </div>
    </dialog>
  );
}
