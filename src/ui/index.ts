// oidc-session-guard/ui: <session-timeout-dialog>, an accessible, translated timeout
// warning. `el.session = session` is all the wiring. It imports nothing from the core at run
// time: it is loaded on its own, only by apps that show it.
import type { Session, SessionSnapshot } from '../session.js';
import { durationOf, fill, languageOf, MESSAGES, spokenLeft, timeLeft, type Language, type TimeoutMessages } from './messages.js';

export type { Language, TimeoutMessages } from './messages.js';

/** What the dialog needs of a session (a `Session` from `createSession`). */
export type DialogSession = Pick<Session, 'getSnapshot' | 'subscribe' | 'on' | 'staySignedIn' | 'signOut' | 'signIn'>;

/** What the dialog shows: a warning (idle, or a cap), or a notice (ended, signed in again). */
type View = 'idle' | 'cap' | 'ended' | 'again';

/** The element's name. */
export const TAG = 'session-timeout-dialog';

// Styles: one constructable stylesheet shared by every instance (no <style>, no style
// attribute: nothing a Content-Security-Policy without 'unsafe-inline' refuses). The host
// cannot be hidden (an !important rule of the shadow tree wins over the page's): a modal
// dialog that is open but not shown would leave the page inert with nothing to answer.
// The entrance is a fade only (none with prefers-reduced-motion): the buttons never move
// under a pointer that is already on its way.
const CSS = `
:host{display:contents!important}
dialog{box-sizing:border-box;max-width:min(34rem,calc(100vw - 2rem));padding:1.5rem;border:var(--osg-border,5px solid #0b0c0c);border-radius:var(--osg-radius,0);background:var(--osg-background,#fff);color:var(--osg-color,#0b0c0c);font:var(--osg-font,inherit);line-height:1.4}
dialog::backdrop{background:var(--osg-backdrop,rgb(11 12 12/.8))}
dialog:focus{outline:none}
dialog:focus-visible{outline:3px solid var(--osg-focus,#fd0)}
h2{margin:0 0 1rem;font-size:1.5rem;line-height:1.2}
p{margin:0 0 1.5rem}
div{display:flex;flex-wrap:wrap;gap:1rem}
button{font:inherit;padding:.5rem 1rem;border:2px solid transparent;border-radius:var(--osg-radius,0);cursor:pointer;background:var(--osg-secondary,#f3f2f1);color:var(--osg-secondary-text,#0b0c0c);box-shadow:0 2px 0 #929191}
.primary{background:var(--osg-accent,#00703c);color:var(--osg-accent-text,#fff);box-shadow:0 2px 0 #002d18}
button:focus-visible{outline:3px solid var(--osg-focus,#fd0);outline-offset:0;box-shadow:0 0 0 5px #0b0c0c}
[hidden]{display:none}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (prefers-reduced-motion:no-preference){dialog[open]{animation:osg-in .2s ease-out}}
@keyframes osg-in{from{opacity:0}}
@media (forced-colors:active){dialog{border:2px solid CanvasText}button{border-color:ButtonText}}
`;
let sheet: CSSStyleSheet | undefined;

const KEYS = Object.keys(MESSAGES.en) as (keyof TimeoutMessages)[];

/**
 * `<session-timeout-dialog>`. Set `session` and it opens a modal dialog on the session's
 * `warning` (the time left, "Stay signed in" and "Sign out"; for the absolute limit or the
 * provider's `session_expiry`, a notice that the session cannot be extended), a notice when
 * the session ends at a limit or by a logout elsewhere, and one after the user signed in
 * again because of a limit. It closes when the session is active again, in every tab.
 */
export class SessionTimeoutDialog extends HTMLElement {
  static readonly observedAttributes = ['lang'];

  #session: DialogSession | null = null;
  #messages: Partial<TimeoutMessages> = {};
  #unwire: (() => void)[] = [];
  #snapshot: SessionSnapshot | null = null;
  #view: View | null = null;
  #reason: string | null = null;
  /** The end of a cap warning the user closed: not shown again for the same end. */
  #dismissed: number | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #dialog: HTMLDialogElement;
  readonly #heading: HTMLElement;
  readonly #text: HTMLElement;
  readonly #live: HTMLElement;
  readonly #primary: HTMLButtonElement;
  readonly #secondary: HTMLButtonElement;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sheet];
    const add = <K extends keyof HTMLElementTagNameMap>(parent: Node, tag: K, attributes: Record<string, string> = {}): HTMLElementTagNameMap[K] => {
      const el = document.createElement(tag);
      for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
      parent.appendChild(el);
      return el;
    };
    // The dialog itself takes focus when it opens, so its name (the heading) and its text
    // are read first; Tab then reaches the buttons.
    const dialog = add(root, 'dialog', { part: 'dialog', 'aria-labelledby': 'h', 'aria-describedby': 't', tabindex: '-1' });
    this.#dialog = dialog;
    this.#heading = add(dialog, 'h2', { id: 'h', part: 'heading' });
    // The visible text counts down every second in the last minute; screen readers hear
    // the live region below instead, which changes only at steps.
    this.#text = add(dialog, 'p', { id: 't', part: 'message', 'aria-hidden': 'true' });
    this.#live = add(dialog, 'p', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' });
    const buttons = add(dialog, 'div', { part: 'buttons' });
    this.#primary = add(buttons, 'button', { type: 'button', part: 'button primary', class: 'primary' });
    this.#secondary = add(buttons, 'button', { type: 'button', part: 'button secondary' });
    this.#primary.addEventListener('click', (e) => e.detail < 2 && this.#act(true));
    this.#secondary.addEventListener('click', () => this.#act(false));
    dialog.addEventListener('close', () => this.#closed());
    dialog.addEventListener('keydown', (event) => this.#trap(event));
  }

  /** The session to follow; null stops following. */
  get session(): DialogSession | null {
    return this.#session;
  }

  set session(session: DialogSession | null) {
    if (session !== null && (typeof session !== 'object' || typeof session.subscribe !== 'function' || typeof session.getSnapshot !== 'function' || typeof session.on !== 'function')) {
      throw new TypeError('"session" of <session-timeout-dialog> must be a session from createSession() or null');
    }
    if (session === this.#session) return;
    this.#close();
    this.#session = session;
    this.#wire();
  }

  /** Strings that replace the language's own (see TimeoutMessages); `{}` restores them all. */
  get messages(): Partial<TimeoutMessages> {
    return { ...this.#messages };
  }

  set messages(messages: Partial<TimeoutMessages>) {
    if (typeof messages !== 'object' || messages === null) throw new TypeError('"messages" of <session-timeout-dialog> must be an object');
    for (const [key, value] of Object.entries(messages)) {
      if (!KEYS.includes(key as keyof TimeoutMessages)) throw new TypeError(`"messages.${key}" is not a message of <session-timeout-dialog>; known: ${KEYS.join(', ')}`);
      const unit = key === 'seconds' || key === 'minutes' || key === 'hours';
      const ok = unit ? typeof value === 'object' && value !== null && typeof (value as { other?: unknown }).other === 'string' : typeof value === 'string';
      if (!ok) throw new TypeError(`"messages.${key}" must be ${unit ? 'an object of plural forms with at least "other"' : 'a string'}`);
    }
    this.#messages = { ...messages };
    this.#render();
  }

  connectedCallback(): void {
    // A property set before the element was defined sits on the instance: take it.
    for (const key of ['session', 'messages'] as const) {
      if (Object.prototype.hasOwnProperty.call(this, key)) {
        const value = this[key];
        delete (this as Partial<this>)[key];
        this[key] = value as never;
      }
    }
    this.#wire();
  }

  disconnectedCallback(): void {
    this.#wire();
  }

  attributeChangedCallback(): void {
    this.#render();
  }

  /** Follows the session while both are there: the snapshot now, then every change. */
  #wire(): void {
    for (const off of this.#unwire.splice(0)) off();
    const session = this.#session;
    if (!session || !this.isConnected) {
      this.#close();
      return;
    }
    this.#unwire.push(
      session.subscribe((snapshot) => this.#follow(snapshot)),
      session.on('signed-in', ({ after }) => {
        if (after && !this.#view) this.#show('again', after);
      }),
    );
    this.#follow(session.getSnapshot());
  }

  #follow(snapshot: SessionSnapshot): void {
    this.#snapshot = snapshot;
    const { status, reason } = snapshot;
    const view = this.#view;
    if (status === 'warning') {
      const cap = reason !== 'idle';
      if (!cap || this.#dismissed !== snapshot.expiresAt) this.#show(cap ? 'cap' : 'idle', reason);
    } else if (status === 'expired' || (status === 'signed-out' && reason === 'remote_logout')) {
      this.#show('ended', reason);
    } else if (view === 'idle' || view === 'cap' || (status === 'active' && view === 'ended')) {
      this.#close();
    }
  }

  #show(view: View, reason: string | null): void {
    const changed = this.#view !== view || this.#reason !== reason;
    this.#view = view;
    this.#reason = reason;
    this.#render();
    if (!this.#dialog.open && this.isConnected) this.#dialog.showModal();
    if (changed) this.#dialog.focus();
  }

  #close(): void {
    clearTimeout(this.#timer);
    this.#view = null;
    if (this.#dialog.open) this.#dialog.close();
  }

  /** Closed by the user (Escape): on an idle warning that means "Stay signed in", never sign-out. */
  #closed(): void {
    const view = this.#view;
    if (this.#dialog.open) return;
    this.#close();
    if (view === 'idle') this.#session?.staySignedIn().catch(() => undefined);
    if (view === 'cap') this.#dismissed = this.#snapshot?.expiresAt ?? null;
  }

  #act(primary: boolean): void {
    const session = this.#session;
    const view = this.#view;
    if (!session || !view) return;
    // Failures show in the session's state (a cap warning, an ended session), which this follows.
    const done = (work: Promise<unknown>) => void work.catch(() => undefined);
    if (view === 'again' || (!primary && view === 'ended')) this.#dialog.close();
    else if (!primary) done(session.signOut());
    else if (view === 'idle') done(session.staySignedIn());
    else done(session.signIn(view === 'cap' ? { prompt: 'login' } : {}));
  }

  /** Keeps Tab and Shift+Tab among the dialog's buttons (the page behind is inert anyway). */
  #trap(event: KeyboardEvent): void {
    if (event.key !== 'Tab') return;
    const buttons = [this.#primary, this.#secondary].filter((b) => !b.hidden);
    const first = buttons[0]!;
    const last = buttons[buttons.length - 1]!;
    const active = this.shadowRoot!.activeElement;
    const to = event.shiftKey ? (active === first || active === this.#dialog ? last : null) : active === last ? first : null;
    if (to) {
      event.preventDefault();
      to.focus();
    }
  }

  #tag(): string | null | undefined {
    return this.closest('[lang]')?.getAttribute('lang');
  }

  /** Writes the view's words; during a warning, again at each second until the end. */
  #render(): void {
    clearTimeout(this.#timer);
    const view = this.#view;
    const snapshot = this.#snapshot;
    if (!view || !snapshot) return;
    const tag = this.#tag();
    const lang = languageOf(tag);
    const m = { ...MESSAGES[lang], ...this.#messages };
    const warning = view === 'idle' || view === 'cap';
    // The app's own words are in the page's language.
    this.#dialog.lang = (Object.keys(this.#messages).length && tag) || lang;
    set(this.#heading, view === 'idle' ? m.heading : view === 'cap' ? m.capHeading : view === 'ended' ? m.endedHeading : m.againHeading);
    set(this.#primary, view === 'idle' ? m.staySignedIn : view === 'again' ? m.close : m.signInAgain);
    set(this.#secondary, view === 'ended' ? m.close : m.signOut);
    this.#secondary.hidden = view === 'again';
    if (!warning) {
      set(this.#text, why(this.#reason, snapshot, lang, m));
      set(this.#live, this.#text.textContent!);
      return;
    }
    const end = snapshot.expiresAt ?? 0;
    const left = end - Date.now();
    const template = view === 'idle' ? m.idleWarning : m.capWarning;
    const clock = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(end);
    set(this.#text, fill(template, { time: timeLeft(lang, left, m), clock }));
    // Written while the dialog is closed, then only at steps (set() writes changes only).
    set(this.#live, fill(template, { time: spokenLeft(lang, left, m), clock }));
    if (left > 0) this.#timer = setTimeout(() => this.#render(), left % 1000 || 1000);
  }
}

/** Sets `el`'s text only when it differs, so assistive technology hears real changes only. */
function set(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Why the session ended, in words, with the limit's length where there is one. */
function why(reason: string | null, s: SessionSnapshot, lang: Language, m: TimeoutMessages): string {
  const span = reason === 'idle' ? diff(s.idleExpiresAt, s.lastActivityAt) : reason === 'absolute' ? diff(s.absoluteExpiresAt, s.authTime) : null;
  const key = (['idle', 'absolute', 'session_expiry', 'remote_logout'] as const).find((k) => k === reason) ?? 'error';
  return fill(m[key], span === null ? {} : { duration: durationOf(lang, span, m) });
}

const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b);

/**
 * Registers `<session-timeout-dialog>` (once; later calls do nothing) and returns its class.
 * Then `document.querySelector('session-timeout-dialog').session = session`.
 */
export function defineTimeoutDialog(): typeof SessionTimeoutDialog {
  if (!customElements.get(TAG)) customElements.define(TAG, SessionTimeoutDialog);
  return customElements.get(TAG) as typeof SessionTimeoutDialog;
}

declare global {
  interface HTMLElementTagNameMap {
    'session-timeout-dialog': SessionTimeoutDialog;
  }
}
