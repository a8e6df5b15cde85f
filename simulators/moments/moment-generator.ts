import type { MomentsStore, SimMoment, SimMomentInput, SimTrigger } from './moments-store.js';

export interface GeneratorOptions {
  /** Moments per second. @defaultValue 1 */
  rate?: number;
  /** Number of athletes to pick from. @defaultValue 10 */
  athletes?: number;
  /** Sports event id of the generated moments. @defaultValue 7 */
  eventId?: number;
}

/** Plausible triggers: heart rate, speed and power, with `{{variable}}` output templates. */
const GENERATOR_TRIGGERS: Array<Partial<SimTrigger> & { publicId: string; range: [number, number] }> = [
  {
    publicId: 'trg_hr_170',
    name: 'HR > 170',
    marker: { color: '#e53935', icon: 'heart' },
    labels: ['physio', 'heartrate'],
    outputTemplate: 'Athlete {{athleteId}} heart rate at {{value}} bpm (> {{threshold}})',
    criteria: [{ datasetDatasourceId: 3, metric: 'heartrate', subMetric: 'current', type: 'gt', threshold: 170 }],
    criteriaLogic: 'AND',
    cooldownSeconds: 60,
    range: [171, 199],
  },
  {
    publicId: 'trg_speed_35',
    name: 'Speed > 35 km/h',
    marker: { color: '#fdd835', icon: 'bolt' },
    labels: ['performance', 'speed'],
    outputTemplate: 'Athlete {{athleteId}} sprinting at {{value}} km/h',
    criteria: [{ metric: 'speed', subMetric: 'average', type: 'gt', threshold: 35 }],
    cooldownSeconds: 30,
    range: [35.5, 44],
  },
  {
    publicId: 'trg_power_400',
    name: 'Power > 400 W',
    marker: { color: '#fb8c00' },
    labels: ['performance', 'power'],
    outputTemplate: 'Athlete {{athleteId}} pushing {{value}} W for {{window}} s',
    criteria: [{ metric: 'power', subMetric: 'current', type: 'avg_window', threshold: 400 }],
    timeWindowSeconds: 10,
    metricStalenessSeconds: 5,
    range: [401, 620],
  },
];

/**
 * Emits plausible moments at a steady rate until stopped. `publish` is the simulator's
 * create-and-broadcast function, so generated moments reach subscribers like any other.
 */
export class MomentGenerator {
  private timer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(
    private readonly store: MomentsStore,
    private readonly publishTrigger: (trigger: SimTrigger) => void,
    private readonly publishMoment: (input: SimMomentInput) => SimMoment,
  ) {}

  get generated(): number {
    return this.count;
  }

  start(options: GeneratorOptions = {}): void {
    this.stop();
    const rate = options.rate ?? 1;
    if (!(rate > 0)) throw new RangeError('generator rate must be > 0 moments per second');
    const athletes = Math.max(1, options.athletes ?? 10);
    for (const { range: _range, ...t } of GENERATOR_TRIGGERS) {
      if (!this.store.triggers.has(t.publicId)) this.publishTrigger(this.store.addTrigger(t));
    }
    this.timer = setInterval(() => {
      const spec = GENERATOR_TRIGGERS[Math.floor(Math.random() * GENERATOR_TRIGGERS.length)]!;
      const trigger = this.store.triggers.get(spec.publicId)!;
      const athleteId = 1 + Math.floor(Math.random() * athletes);
      const [lo, hi] = spec.range;
      const value = Math.round((lo + Math.random() * (hi - lo)) * 10) / 10;
      const criterion = trigger.criteria[0]!;
      const text = trigger.outputTemplate.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) =>
        String({ athleteId, value, threshold: criterion.threshold, window: trigger.timeWindowSeconds ?? '' }[name] ?? ''),
      );
      this.publishMoment({
        triggerPublicId: trigger.publicId,
        triggerName: trigger.name,
        triggerMarker: trigger.marker,
        athleteId,
        eventId: options.eventId ?? 7,
        value,
        moment: text,
        matches: [{ metric: criterion.metric, subMetric: criterion.subMetric, value, type: criterion.type, threshold: criterion.threshold }],
      });
      this.count += 1;
    }, 1000 / rate);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
