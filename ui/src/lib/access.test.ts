import { describe, expect, it } from "vitest";
import { answerCounts, itemState } from "./access";
import { accessItem, accessReview } from "../test-kit";

describe("where an item of a subject access answer stands (the app's and the workspace's one reading)", () => {
  it("never offers again what can never be released, even if it was released before its words changed", () => {
    // Why: words that now show where she lives must not be one click from the perpetrator.
    const item = accessItem({ withheld: "shows_where_the_victim_lives", releasable: false });
    const review = accessReview({ items: [item], released: [], changed_since_release: [item.key] });
    expect(itemState(review, item)).toEqual({ kind: "never", because: "shows_where_the_victim_lives" });
  });

  it("says why a changed release is withheld again, and counts the answer from the states", () => {
    const own = accessItem({ record_id: "a", withheld: null });
    const exempt = accessItem({ record_id: "b", withheld: null });
    const changed = accessItem({ record_id: "c", withheld: "about_the_perpetrator", releasable: true });
    const released = accessItem({ record_id: "d", withheld: "about_someone_else", releasable: true });
    const review = accessReview({
      items: [own, exempt, changed, released],
      released: [released.key],
      changed_since_release: [changed.key],
      exempt: [[exempt.key, "crime"]],
    });
    expect(itemState(review, changed)).toEqual({ kind: "changed", because: "about_the_perpetrator" });
    expect(itemState(review, exempt)).toEqual({ kind: "exempt", reason: "crime" });
    expect(answerCounts(review)).toEqual({ inAnswer: 2, released: 1, withheld: 2 });
  });
});
