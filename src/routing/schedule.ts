import { DAY_NAMES, type ActiveTime } from './route-schema.js';

/**
 * `activeTimes:` — weekly windows in a time zone. Outside every window a route does not match
 * and the event falls through to later routes (so a fallback route after it catches quiet-hour
 * events). The clock is injected, so tests pin it.
 */
export interface ActiveSchedule {
  isActive(nowMs: number): boolean;
  /** `mon-fri 08:00-20:00 Europe/London; …` for explanations. */
  readonly description: string;
}

export class ScheduleError extends Error {
  readonly code = 'schedule_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

function daySet(days: readonly string[]): boolean[] {
  const set = new Array<boolean>(7).fill(false);
  for (const d of days) {
    const [a, b] = d.split('-') as [string, string | undefined];
    const start = DAY_NAMES.indexOf(a as (typeof DAY_NAMES)[number]);
    const end = b === undefined ? start : DAY_NAMES.indexOf(b as (typeof DAY_NAMES)[number]);
    // Ranges wrap around the week: sat-sun, fri-mon.
    for (let i = start; ; i = (i + 1) % 7) {
      set[i] = true;
      if (i === end) break;
    }
  }
  return set;
}

/** Local weekday and minute-of-day in a zone, cached per wall-clock minute (Intl is slow). */
function localClock(tz: string): (nowMs: number) => { day: number; minute: number } {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch {
    throw new ScheduleError(`unknown time zone ${JSON.stringify(tz)}: use an IANA name such as Europe/London or UTC`);
  }
  let cachedMinute = Number.NaN;
  let cached = { day: 0, minute: 0 };
  return (nowMs) => {
    const m = Math.floor(nowMs / 60_000);
    if (m === cachedMinute) return cached;
    let day = 0;
    let hour = 0;
    let minute = 0;
    for (const part of fmt.formatToParts(new Date(nowMs))) {
      if (part.type === 'weekday') day = WEEKDAY_INDEX[part.value] ?? 0;
      else if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
    }
    cachedMinute = m;
    cached = { day, minute: hour * 60 + minute };
    return cached;
  };
}

export function compileSchedule(windows: readonly ActiveTime[]): ActiveSchedule {
  const compiled = windows.map((w) => {
    const clock = localClock(w.tz);
    const days = daySet(w.days);
    const from = minutes(w.from);
    const to = minutes(w.to);
    if (from === to) throw new ScheduleError(`from and to are both ${w.from}: the window would be empty`);
    const overnight = to < from;
    return (nowMs: number): boolean => {
      const { day, minute } = clock(nowMs);
      if (!overnight) return days[day]! && minute >= from && minute < to;
      // 22:00–06:00 on mon covers mon 22:00–24:00 and tue 00:00–06:00.
      return (days[day]! && minute >= from) || (days[(day + 6) % 7]! && minute < to);
    };
  });
  return {
    isActive: (nowMs) => compiled.some((active) => active(nowMs)),
    description: windows.map((w) => `${w.days.join(',')} ${w.from}-${w.to} ${w.tz}`).join('; '),
  };
}
