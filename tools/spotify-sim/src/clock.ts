// The virtual clock: tests move it; it never runs ahead of real time, and never goes backwards.

export interface ClockView {
  nowMs: number;
  now: string;
  realNowMs: number;
  lagMs: number;
  running: boolean;
}

export class VirtualClock {
  #baseMs: number;
  #baseRealMs: number;
  #running: boolean;
  readonly #realNow: () => number;

  constructor(startMs: number, running = false, realNow: () => number = Date.now) {
    this.#realNow = realNow;
    this.#baseRealMs = realNow();
    this.#baseMs = Math.min(startMs, this.#baseRealMs);
    this.#running = running;
  }

  now(): number {
    const real = this.#realNow();
    const elapsed = this.#running ? real - this.#baseRealMs : 0;
    return Math.min(this.#baseMs + elapsed, real);
  }

  /** Moves to `targetMs`, clamped to [now, real now]. Returns the new virtual now. */
  set(targetMs: number): number {
    const current = this.now();
    const real = this.#realNow();
    this.#baseMs = Math.max(current, Math.min(targetMs, real));
    this.#baseRealMs = real;
    return this.#baseMs;
  }

  advance(ms: number): number {
    return this.set(this.now() + Math.max(0, ms));
  }

  setRunning(running: boolean): void {
    this.set(this.now());
    this.#running = running;
  }

  view(): ClockView {
    const nowMs = this.now();
    const realNowMs = this.#realNow();
    return { nowMs, now: new Date(nowMs).toISOString(), realNowMs, lagMs: realNowMs - nowMs, running: this.#running };
  }
}
