// The dialog's words in English, Welsh and Danish. Every string can be overridden through
// the element's `messages`; `{time}` (how long is left: "2 minutes"), `{clock}` (the local
// time of day it ends: "14:05") and `{duration}` (a limit: "30 minutes") are filled in.

/** Every string the dialog shows. */
export interface TimeoutMessages {
  /** Heading of the idle warning. */
  heading: string;
  /** Idle warning: the session can be extended. `{time}`. */
  idleWarning: string;
  /** Heading of the warning of the absolute limit or the provider's `session_expiry`. */
  capHeading: string;
  /** That warning: the session cannot be extended. `{clock}`, `{time}`. */
  capWarning: string;
  /** Heading of the notice when the session has ended. */
  endedHeading: string;
  /** Heading of the notice after the user signed in again because a limit was reached. */
  againHeading: string;
  /** Why it ended: inactivity. `{duration}`: the idle limit. */
  idle: string;
  /** Why it ended: the absolute limit. `{duration}`: that limit. */
  absolute: string;
  /** Why it ended: the identity provider's `session_expiry`. */
  session_expiry: string;
  /** Why it ended: signed out elsewhere (back-channel logout). */
  remote_logout: string;
  /** Why it ended: something went wrong (the session could not be trusted or kept). */
  error: string;
  staySignedIn: string;
  signOut: string;
  signInAgain: string;
  close: string;
  /** Units by `Intl.PluralRules` category (`one`, `two`, `few`, `many`, `other`, `zero`): "other" is the fallback. */
  seconds: Partial<Record<Intl.LDMLPluralRule, string>>;
  minutes: Partial<Record<Intl.LDMLPluralRule, string>>;
  hours: Partial<Record<Intl.LDMLPluralRule, string>>;
}

export type Language = 'en' | 'cy' | 'da';

const en: TimeoutMessages = {
  heading: 'You’re about to be signed out',
  idleWarning: 'For your security, we will sign you out in {time}.',
  capHeading: 'Your session is about to end',
  capWarning: 'For your security, this session cannot be extended. It will end in {time}, at {clock}. To carry on after that, sign in again.',
  endedHeading: 'You have been signed out',
  againHeading: 'You have signed in again',
  idle: 'For your security, we signed you out because you had not used this service for {duration}.',
  absolute: 'For your security, we signed you out because you had been signed in for {duration}.',
  session_expiry: 'For your security, we signed you out because your sign-in had expired.',
  remote_logout: 'You were signed out somewhere else, so we have signed you out here too.',
  error: 'Something went wrong with your session, so we signed you out.',
  staySignedIn: 'Stay signed in',
  signOut: 'Sign out',
  signInAgain: 'Sign in again',
  close: 'Close',
  seconds: { one: 'second', other: 'seconds' },
  minutes: { one: 'minute', other: 'minutes' },
  hours: { one: 'hour', other: 'hours' },
};

// Welsh: after a numeral the noun stays singular; "munud" takes the soft mutation after
// two ("2 funud"). Browsers have no Welsh data for Intl.RelativeTimeFormat or unit
// formatting (they fall back to English), so the forms are here, chosen by Intl.PluralRules.
const cy: TimeoutMessages = {
  heading: 'Rydych ar fin cael eich allgofnodi',
  idleWarning: 'Er eich diogelwch, byddwn yn eich allgofnodi ymhen {time}.',
  capHeading: 'Mae eich sesiwn ar fin dod i ben',
  capWarning: 'Er eich diogelwch, nid oes modd ymestyn y sesiwn hon. Bydd yn dod i ben ymhen {time}, am {clock}. I barhau ar ôl hynny, mewngofnodwch eto.',
  endedHeading: 'Rydych wedi cael eich allgofnodi',
  againHeading: 'Rydych wedi mewngofnodi eto',
  idle: 'Er eich diogelwch, gwnaethom eich allgofnodi oherwydd nad oeddech wedi defnyddio’r gwasanaeth hwn ers {duration}.',
  absolute: 'Er eich diogelwch, gwnaethom eich allgofnodi oherwydd eich bod wedi mewngofnodi ers {duration}.',
  session_expiry: 'Er eich diogelwch, gwnaethom eich allgofnodi oherwydd bod eich mewngofnodiad wedi cyrraedd ei derfyn amser.',
  remote_logout: 'Cawsoch eich allgofnodi yn rhywle arall, felly rydym wedi eich allgofnodi yma hefyd.',
  error: 'Aeth rhywbeth o’i le gyda’ch sesiwn, felly rydym wedi eich allgofnodi.',
  staySignedIn: 'Aros wedi mewngofnodi',
  signOut: 'Allgofnodi',
  signInAgain: 'Mewngofnodi eto',
  close: 'Cau',
  seconds: { other: 'eiliad' },
  minutes: { two: 'funud', other: 'munud' },
  hours: { other: 'awr' },
};

const da: TimeoutMessages = {
  heading: 'Du bliver snart logget ud',
  idleWarning: 'Af sikkerhedshensyn logger vi dig ud om {time}.',
  capHeading: 'Din session udløber snart',
  capWarning: 'Af sikkerhedshensyn kan sessionen ikke forlænges. Den udløber om {time}, kl. {clock}. Log ind igen, hvis du vil fortsætte derefter.',
  endedHeading: 'Du er blevet logget ud',
  againHeading: 'Du er logget ind igen',
  idle: 'Af sikkerhedshensyn har vi logget dig ud, fordi du ikke har brugt tjenesten i {duration}.',
  absolute: 'Af sikkerhedshensyn har vi logget dig ud, fordi du har været logget ind i {duration}.',
  session_expiry: 'Af sikkerhedshensyn har vi logget dig ud, fordi dit login er udløbet.',
  remote_logout: 'Du er blevet logget ud et andet sted, så vi har også logget dig ud her.',
  error: 'Der opstod en fejl i din session, så vi har logget dig ud.',
  staySignedIn: 'Forbliv logget ind',
  signOut: 'Log ud',
  signInAgain: 'Log ind igen',
  close: 'Luk',
  seconds: { one: 'sekund', other: 'sekunder' },
  minutes: { one: 'minut', other: 'minutter' },
  hours: { one: 'time', other: 'timer' },
};

export const MESSAGES: Readonly<Record<Language, TimeoutMessages>> = { en, cy, da };

/** The language of `tag` (e.g. `cy-GB` → `cy`) if the dialog speaks it, else English. */
export function languageOf(tag: string | null | undefined): Language {
  const base = (tag ?? '').toLowerCase().split('-')[0];
  return base === 'cy' || base === 'da' ? base : 'en';
}

/**
 * `count` of a unit in words, in `lang`'s plural form: "2 minutes", "2 funud", "2 minutter";
 * a no-break space keeps the number with its unit.
 */
export function countOf(lang: Language, count: number, forms: TimeoutMessages['seconds']): string {
  return `${count}\u00a0${forms[new Intl.PluralRules(lang).select(count)] ?? forms.other}`;
}

/** How long `ms` lasts, in the largest whole unit: a limit such as "30 minutes" or "12 hours". */
export function durationOf(lang: Language, ms: number, m: TimeoutMessages): string {
  const s = Math.round(ms / 1000);
  return s % 3600 === 0 ? countOf(lang, s / 3600, m.hours) : s % 60 === 0 ? countOf(lang, s / 60, m.minutes) : countOf(lang, s, m.seconds);
}

/**
 * The time left, as the countdown shows it: whole minutes (rounded up) down to one minute,
 * then seconds. Never negative.
 */
export function timeLeft(lang: Language, ms: number, m: TimeoutMessages): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s >= 60 ? countOf(lang, Math.ceil(s / 60), m.minutes) : countOf(lang, s, m.seconds);
}

/**
 * The time left as a screen reader hears it: the same in whole minutes, then only 40 and 20
 * seconds (rounded up to a step of 20), so the live region changes once a minute and twice
 * in the last minute, never every second (WCAG 2.2 SC 2.2.1, 4.1.3).
 */
export function spokenLeft(lang: Language, ms: number, m: TimeoutMessages): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return timeLeft(lang, (s > 60 ? s : Math.max(20, Math.ceil(s / 20) * 20)) * 1000, m);
}

/** `template` with `{name}` replaced by `values[name]`. */
export const fill = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(time|clock|duration)\}/g, (whole, name: string) => values[name] ?? whole);
