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
});
