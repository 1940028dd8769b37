/** Every time-dependent rule reads this, so tests can freeze or advance time. */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** Whole Unix seconds: floor(ms / 1000), as the token rules require. */
export function nowSeconds(clock: Clock): number {
  return Math.floor(clock.nowMs() / 1000);
}

/** A clock for tests: starts where you put it and moves only when told. */
export class ManualClock implements Clock {
  constructor(private ms: number = 1_700_000_000_000) {}
  nowMs(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advanceSeconds(s: number): void {
    this.ms += s * 1000;
  }
  advanceMs(ms: number): void {
    this.ms += ms;
  }
}
