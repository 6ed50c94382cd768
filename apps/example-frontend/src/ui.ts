import { ApiError, describeFailure } from './http';

/** The element with this id; a missing one is a bug in index.html, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element as T;
}

export function inputValue(id: string): string {
  return byId<HTMLInputElement>(id).value;
}

/** The one status line: `state` is a machine-readable word (the browser test waits on it). */
export function setStatus(state: string, text: string): void {
  const status = byId('status');
  status.dataset.state = state;
  status.textContent = text;
}

export function reportFailure(what: string, result: { status: number; error: ApiError }): void {
  setStatus('error', describeFailure(what, result));
}

/** A form's submit (Enter included), its submit button disabled while the handler runs. */
export function onSubmit(formId: string, handler: () => Promise<void>): void {
  const form = byId<HTMLFormElement>(formId);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
    if (button) button.disabled = true;
    void handler().finally(() => {
      if (button) button.disabled = false;
    });
  });
}

/** A list row's action button (`className` names it for the browser test), disabled while `action` runs. */
export function actionButton(
  className: string,
  label: string,
  action: () => Promise<void>,
): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.textContent = label;
  button.addEventListener('click', () => {
    button.disabled = true;
    void action().finally(() => (button.disabled = false));
  });
  return button;
}

export function onClick(id: string, handler: () => Promise<void>): void {
  byId(id).addEventListener('click', () => void handler());
}

/** For a page opened without the token its email link carries. */
export const NO_TOKEN = 'This page needs the link from the email: it carries the token';

/** Removes single-use values (tokens) from the address bar and history once read. */
export function dropQueryParams(...names: string[]): void {
  const url = new URL(location.href);
  for (const name of names) url.searchParams.delete(name);
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
}
