/**
 * A destructive action behind a confirmation dialog (the native `<dialog>`: focus moves into it,
 * Escape cancels).
 */
import { useRef, type ReactNode } from 'react';

export interface ConfirmButtonProps {
  /** The button's text, e.g. "Delete". */
  label: string;
  /** Its accessible name when the text alone is ambiguous, e.g. "Delete group mascot". */
  ariaLabel?: string;
  /** The question in the dialog. */
  question: ReactNode;
  /** The confirming button's text. @default label */
  confirmLabel?: string;
  onConfirm: () => void;
  disabled?: boolean;
}

export function ConfirmButton(props: ConfirmButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button
        type="button"
        className="danger"
        aria-label={props.ariaLabel}
        disabled={props.disabled}
        onClick={() => dialog.current?.showModal()}
      >
        {props.label}
      </button>
      <dialog ref={dialog} aria-label={props.ariaLabel ?? props.label}>
        <p>{props.question}</p>
        <form method="dialog" className="actions">
          <button type="submit" value="cancel" autoFocus>
            Cancel
          </button>
          <button
            type="submit"
            className="danger"
            value="confirm"
            onClick={() => props.onConfirm()}
          >
            {props.confirmLabel ?? props.label}
          </button>
        </form>
      </dialog>
    </>
  );
}
