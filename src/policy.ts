const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Session limits, all in milliseconds. */
export interface SessionPolicy {
  /** End the session after this long without user activity. */
  readonly idleTimeoutMs: number;
  /** End the session this long after authentication, whatever the activity. */
  readonly absoluteTimeoutMs: number;
  /** Warn this long before the session ends; at least 20 s (WCAG 2.2 SC 2.2.1). */
  readonly warningBeforeMs: number;
}

/** The minimum warning time: WCAG 2.2 SC 2.2.1 gives users at least 20 seconds to extend. */
export const MIN_WARNING_MS = 20 * SECOND;
const DEFAULT_WARNING_MS = 2 * MINUTE;

/**
 * The named policies. The values are the limits of NIST SP 800-63B; the warning is the
 * GOV.UK timeout-dialog pattern's two minutes.
 */
export const presets = Object.freeze({
  /** NIST SP 800-63B rev 3 §4.2.3, AAL2: 30 min idle, 12 h overall (both SHALL). The default. */
  'nist-800-63b-3-aal2': Object.freeze({ idleTimeoutMs: 30 * MINUTE, absoluteTimeoutMs: 12 * HOUR, warningBeforeMs: DEFAULT_WARNING_MS }),
  /** NIST SP 800-63B rev 3 §4.3.3, AAL3: 15 min idle, 12 h overall (both SHALL). */
  'nist-800-63b-3-aal3': Object.freeze({ idleTimeoutMs: 15 * MINUTE, absoluteTimeoutMs: 12 * HOUR, warningBeforeMs: DEFAULT_WARNING_MS }),
  /** NIST SP 800-63B rev 4 §2.2.3, AAL2: 1 h idle, 24 h overall (SHOULD). */
  'nist-800-63b-4-aal2': Object.freeze({ idleTimeoutMs: 1 * HOUR, absoluteTimeoutMs: 24 * HOUR, warningBeforeMs: DEFAULT_WARNING_MS }),
  /** NIST SP 800-63B rev 4 §2.3.3, AAL3: 15 min idle (SHOULD), 12 h overall (SHALL). */
  'nist-800-63b-4-aal3': Object.freeze({ idleTimeoutMs: 15 * MINUTE, absoluteTimeoutMs: 12 * HOUR, warningBeforeMs: DEFAULT_WARNING_MS }),
} satisfies Record<string, SessionPolicy>);

/** The name of a preset in {@link presets}. */
export type PresetName = keyof typeof presets;

/** The preset used when `options.policy` is not given. */
export const DEFAULT_PRESET: PresetName = 'nist-800-63b-3-aal2';

function isPresetName(value: unknown): value is PresetName {
  return typeof value === 'string' && Object.hasOwn(presets, value);
}

/**
 * Turns `options.policy` (a preset name or a custom object) into a frozen policy.
 * @throws TypeError naming the bad field.
 */
export function resolvePolicy(value: unknown, path = 'options.policy'): SessionPolicy {
  if (value === undefined) return presets[DEFAULT_PRESET];
  if (isPresetName(value)) return presets[value];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`"${path}" must be one of ${Object.keys(presets).map((k) => `'${k}'`).join(', ')} or { idleTimeoutMs, absoluteTimeoutMs, warningBeforeMs }; got ${JSON.stringify(value)}`);
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (key !== 'idleTimeoutMs' && key !== 'absoluteTimeoutMs' && key !== 'warningBeforeMs') {
      throw new TypeError(`"${path}.${key}" is not a policy field`);
    }
  }
  const positive = (key: keyof SessionPolicy): number => {
    const n = input[key];
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
      throw new TypeError(`"${path}.${key}" must be a positive, finite number of milliseconds`);
    }
    return n;
  };
  const idleTimeoutMs = positive('idleTimeoutMs');
  const absoluteTimeoutMs = positive('absoluteTimeoutMs');
  const warningBeforeMs = input.warningBeforeMs === undefined ? DEFAULT_WARNING_MS : positive('warningBeforeMs');
  if (absoluteTimeoutMs < idleTimeoutMs) {
    throw new TypeError(`"${path}.absoluteTimeoutMs" must not be shorter than "${path}.idleTimeoutMs"`);
  }
  if (warningBeforeMs < MIN_WARNING_MS) {
    // WCAG 2.2 SC 2.2.1: at least 20 seconds to extend.
    throw new TypeError(`"${path}.warningBeforeMs" must be at least ${MIN_WARNING_MS} ms (WCAG 2.2 SC 2.2.1)`);
  }
  if (warningBeforeMs >= idleTimeoutMs) {
    throw new TypeError(`"${path}.warningBeforeMs" (${warningBeforeMs} ms) must be shorter than "${path}.idleTimeoutMs" (${idleTimeoutMs} ms)`);
  }
  return Object.freeze({ idleTimeoutMs, absoluteTimeoutMs, warningBeforeMs });
}

/** The timing facts one decision is made from. Timestamps, never countdowns. */
export interface TimingRecord {
  /** When the user authenticated (the ID token's `auth_time`, or sign-in completion when absent), epoch ms. */
  readonly authTime: number;
  /** The provider's absolute session end (`session_expiry`), epoch ms, or null. */
  readonly sessionExpiresAt: number | null;
  /** The newest user activity seen in any tab, epoch ms. */
  readonly lastActivityAt: number;
}

/** Which limit ends (or ended) the session. */
export type LimitReason = 'idle' | 'absolute' | 'session_expiry';

/** What is true at one instant. */
export interface Decision {
  readonly phase: 'active' | 'warning' | 'expired';
  /** The limit that ends the session first; `'error'` when the record does not parse (fail closed). */
  readonly reason: LimitReason | 'error';
  readonly expiresAt: number;
  readonly warningAt: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly sessionExpiresAt: number | null;
}

const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/**
 * The pure heart of the SDK: from the record, the time and the policy, what is true.
 *
 *     expiresAt = min(lastActivityAt + idle, authTime + absolute, sessionExpiry)
 *
 * Anything that does not parse is expired with reason `'error'`: it never extends a session.
 */
export function decide(record: TimingRecord, now: number, policy: SessionPolicy): Decision {
  const { authTime, lastActivityAt, sessionExpiresAt } = record;
  if (!isTime(now) || !isTime(authTime) || !isTime(lastActivityAt) || !(sessionExpiresAt === null || isTime(sessionExpiresAt))) {
    return { phase: 'expired', reason: 'error', expiresAt: 0, warningAt: 0, idleExpiresAt: 0, absoluteExpiresAt: 0, sessionExpiresAt: null };
  }
  const idleExpiresAt = lastActivityAt + policy.idleTimeoutMs;
  const absoluteExpiresAt = authTime + policy.absoluteTimeoutMs;
  // Ties go to the limit that no activity can move, so the reason shown is the one that holds.
  let reason: LimitReason = 'absolute';
  let expiresAt = absoluteExpiresAt;
  if (sessionExpiresAt !== null && sessionExpiresAt <= expiresAt) {
    reason = 'session_expiry';
    expiresAt = sessionExpiresAt;
  }
  if (idleExpiresAt < expiresAt) {
    reason = 'idle';
    expiresAt = idleExpiresAt;
  }
  const warningAt = expiresAt - policy.warningBeforeMs;
  const phase = now >= expiresAt ? 'expired' : now >= warningAt ? 'warning' : 'active';
  return { phase, reason, expiresAt, warningAt, idleExpiresAt, absoluteExpiresAt, sessionExpiresAt };
}
