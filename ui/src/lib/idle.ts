// Locks the vault after a spell with no keyboard or pointer activity.
const ACTIVITY = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;

export class IdleLock {
  private last: number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private limitMs = 5 * 60_000;
  private readonly touch: () => void;
  private readonly onIdle: () => void;
  private readonly now: () => number;

  constructor(onIdle: () => void, now: () => number = Date.now) {
    this.onIdle = onIdle;
    this.now = now;
    this.last = now();
    this.touch = () => {
      // After a sleep the interval has not run: a lock that fell due
      // meanwhile happens now, rather than being cancelled by the first move.
      this.check();
      if (this.timer !== null) this.last = this.now();
    };
  }

  start(minutes: number) {
    this.stop();
    this.limitMs = minutes * 60_000;
    this.last = this.now();
    for (const type of ACTIVITY) window.addEventListener(type, this.touch, { passive: true });
    this.timer = setInterval(() => this.check(), 5_000);
  }

  check() {
    if (this.timer !== null && this.now() - this.last >= this.limitMs) {
      this.stop();
      this.onIdle();
    }
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const type of ACTIVITY) window.removeEventListener(type, this.touch);
  }
}
