// @vitest-environment happy-dom
// The timeout dialog's words and its element's inputs. How it looks, opens, traps focus and
// counts down is tested in Chromium (test/e2e/dialog.spec.ts): happy-dom has no top layer.
import { describe, expect, it } from 'vitest';
import { defineTimeoutDialog, SessionTimeoutDialog, TAG } from '../../src/ui/index.js';
import { countOf as countWithNbsp, durationOf as durationWithNbsp, fill, languageOf, MESSAGES, spokenLeft as spokenWithNbsp, timeLeft as timeWithNbsp, type Language } from '../../src/ui/messages.js';

// Numbers and units are joined by a no-break space; compared here with a plain one.
const plain = <A extends unknown[]>(f: (...args: A) => string) => (...args: A) => f(...args).replace(/\u00a0/g, ' ');
const countOf = plain(countWithNbsp);
const durationOf = plain(durationWithNbsp);
const spokenLeft = plain(spokenWithNbsp);
const timeLeft = plain(timeWithNbsp);

const S = 1000;
const MIN = 60 * S;

describe('words', () => {
  it('every language has every message, with the same placeholders as English', () => {
    const placeholders = (text: unknown) => (typeof text === 'string' ? text.match(/\{\w+\}/g) ?? [] : Object.keys(text as object).includes('other'));
    for (const lang of ['cy', 'da'] as const) {
      expect(Object.keys(MESSAGES[lang]).sort()).toEqual(Object.keys(MESSAGES.en).sort());
      for (const [key, value] of Object.entries(MESSAGES.en)) {
        expect([lang, key, placeholders(MESSAGES[lang][key as keyof typeof MESSAGES.en])]).toEqual([lang, key, placeholders(value)]);
      }
    }
  });

  it('plural forms by Intl.PluralRules: Welsh mutates "munud" after two; Danish and English singular for one', () => {
    const minutes = (lang: Language, n: number) => countOf(lang, n, MESSAGES[lang].minutes);
    expect([1, 2, 3, 6, 10, 30].map((n) => minutes('cy', n))).toEqual(['1 munud', '2 funud', '3 munud', '6 munud', '10 munud', '30 munud']);
    expect([1, 2, 30].map((n) => minutes('da', n))).toEqual(['1 minut', '2 minutter', '30 minutter']);
    expect([0, 1, 2].map((n) => minutes('en', n))).toEqual(['0 minutes', '1 minute', '2 minutes']);
    expect(countOf('cy', 12, MESSAGES.cy.hours)).toBe('12 awr');
    expect(countOf('da', 1, MESSAGES.da.hours)).toBe('1 time');
  });

  it('the countdown: whole minutes rounded up down to one minute, then seconds; never negative', () => {
    const left = (ms: number) => timeLeft('en', ms, MESSAGES.en);
    expect([2 * MIN, 61 * S, 60 * S, 59_001, 59 * S, S, 1, 0, -5 * S].map(left)).toEqual(
      ['2 minutes', '2 minutes', '1 minute', '1 minute', '59 seconds', '1 second', '1 second', '0 seconds', '0 seconds']);
  });

  it('what a screen reader hears changes once a minute, then at 40 and 20 seconds only', () => {
    const heard = (ms: number) => spokenLeft('en', ms, MESSAGES.en);
    const steps = new Set<string>();
    for (let ms = 2 * MIN; ms >= 0; ms -= S) steps.add(heard(ms));
    expect([...steps]).toEqual(['2 minutes', '1 minute', '40 seconds', '20 seconds']);
    expect([61 * S, 60 * S, 41 * S, 40 * S, 21 * S, 20 * S, S].map(heard)).toEqual(
      ['2 minutes', '1 minute', '1 minute', '40 seconds', '40 seconds', '20 seconds', '20 seconds']);
  });

  it('a limit in its largest whole unit', () => {
    expect(durationOf('en', 30 * MIN, MESSAGES.en)).toBe('30 minutes');
    expect(durationOf('en', 12 * 60 * MIN, MESSAGES.en)).toBe('12 hours');
    expect(durationOf('en', 90 * S, MESSAGES.en)).toBe('90 seconds');
    expect(durationOf('da', 15 * MIN, MESSAGES.da)).toBe('15 minutter');
    expect(durationOf('cy', 2 * MIN, MESSAGES.cy)).toBe('2 funud');
  });

  it('the language from a language tag, English for any other', () => {
    expect(['cy-GB', 'CY', 'da-DK', 'da', 'en-GB', 'fr', '', null, undefined].map(languageOf)).toEqual(['cy', 'cy', 'da', 'da', 'en', 'en', 'en', 'en', 'en']);
  });

  it('keeps the number with its unit (a no-break space)', () => {
    expect(countWithNbsp('en', 2, MESSAGES.en.minutes)).toBe('2\u00a0minutes');
  });

  it('fills known placeholders and leaves others as they are', () => {
    expect(fill('in {time} at {clock} {other}', { time: '2 minutes', clock: '14:05' })).toBe('in 2 minutes at 14:05 {other}');
  });
});

describe('<session-timeout-dialog>', () => {
  it('defineTimeoutDialog registers the element once', () => {
    expect(defineTimeoutDialog()).toBe(SessionTimeoutDialog);
    expect(defineTimeoutDialog()).toBe(SessionTimeoutDialog);
    expect(customElements.get(TAG)).toBe(SessionTimeoutDialog);
    expect(document.createElement(TAG)).toBeInstanceOf(SessionTimeoutDialog);
  });

  it('refuses a session that is not one, naming the property', () => {
    defineTimeoutDialog();
    const el = document.createElement(TAG);
    expect(() => {
      el.session = { subscribe: () => () => undefined } as never;
    }).toThrow(/"session" of <session-timeout-dialog> must be a session/);
    expect(() => {
      el.session = null;
    }).not.toThrow();
  });

  it('refuses unknown or mistyped messages, naming the key; takes known ones', () => {
    defineTimeoutDialog();
    const el = document.createElement(TAG);
    expect(() => {
      el.messages = { heding: 'x' } as never;
    }).toThrow(/"messages\.heding" is not a message/);
    expect(() => {
      el.messages = { heading: 3 } as never;
    }).toThrow(/"messages\.heading" must be a string/);
    expect(() => {
      el.messages = { minutes: { one: 'min' } } as never;
    }).toThrow(/"messages\.minutes" must be an object of plural forms/);
    expect(() => {
      el.messages = null as never;
    }).toThrow(/"messages" .* must be an object/);
    el.messages = { heading: 'Still there?', minutes: { one: 'min', other: 'mins' } };
    expect(el.messages).toEqual({ heading: 'Still there?', minutes: { one: 'min', other: 'mins' } });
  });

  it('has an open shadow root with a native dialog, its parts, and no style attribute anywhere', () => {
    defineTimeoutDialog();
    const el = document.createElement(TAG);
    const root = el.shadowRoot!;
    expect(root).not.toBeNull();
    const dialog = root.querySelector('dialog')!;
    expect(dialog.getAttribute('part')).toBe('dialog');
    expect(dialog.getAttribute('aria-labelledby')).toBe('h');
    expect(root.getElementById('h')!.tagName).toBe('H2');
    expect([...root.querySelectorAll('button')].map((b) => b.getAttribute('part'))).toEqual(['button primary', 'button secondary']);
    expect(root.querySelectorAll('[style], style').length).toBe(0);
  });
});
