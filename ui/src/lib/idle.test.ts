import { afterEach, describe, expect, it, vi } from "vitest";
import { IdleLock } from "./idle";

describe("IdleLock", () => {
  afterEach(() => vi.useRealTimers());

  it("locks after the idle limit and not before, and activity restarts the count", () => {
    // The laptop may be left open in a victim's kitchen: the limit must hold.
    vi.useFakeTimers();
    const onIdle = vi.fn();
    const idle = new IdleLock(onIdle, () => Date.now());
    idle.start(5);
    vi.advanceTimersByTime(4 * 60_000);
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "a" }));
    vi.advanceTimersByTime(4 * 60_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(61_000 + 5_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * 60_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("does nothing once stopped", () => {
    vi.useFakeTimers();
    const onIdle = vi.fn();
    const idle = new IdleLock(onIdle, () => Date.now());
    idle.start(1);
    idle.stop();
    vi.advanceTimersByTime(5 * 60_000);
    expect(onIdle).not.toHaveBeenCalled();
  });

  it("locks on the first movement after a sleep that outlasted the limit", () => {
    // Why: while the laptop sleeps no timer runs; the first mouse move on waking used to reset the count and cancel the lock.
    let now = 0;
    const onIdle = vi.fn();
    const idle = new IdleLock(onIdle, () => now);
    idle.start(5);
    now += 20 * 60_000;
    window.dispatchEvent(new Event("pointermove"));
    expect(onIdle).toHaveBeenCalledTimes(1);
    idle.stop();
  });

  it("keeps counting from the last activity when the limit has not passed", () => {
    let now = 0;
    const onIdle = vi.fn();
    const idle = new IdleLock(onIdle, () => now);
    idle.start(5);
    now += 4 * 60_000;
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "a" }));
    now += 4 * 60_000;
    idle.check();
    expect(onIdle).not.toHaveBeenCalled();
    idle.stop();
  });
});
