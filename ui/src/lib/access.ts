// Subject access in words: when a request is due, where each item of its
// answer stands, and the answer's count. The core decides what is withheld,
// released or exempt (`AccessReview`); this only words it, for the list of
// requests, the case screen and the review.
import type * as B from "./bindings";
import type { Vocabularies } from "./types";
import { labelIn, recordKindLabel } from "./labels";
import { daysBetween, londonLocalNow } from "./format";
import { formatUkDate } from "./ukdate";

export type AccessRequest = B.AccessRequest_Serialize;
export type AccessReview = B.AccessReview_Serialize;
export type AccessItem = B.AccessItem_Serialize;

/** Today in UK time, "YYYY-MM-DD": what a request's due date is counted against. */
export const ukToday = (now: Date = new Date()): string => londonLocalNow(now).slice(0, 10);

const days = (n: number) => `${n} ${n === 1 ? "day" : "days"}`;

/** When an answer is due, in words: "Overdue by 3 days", "Due today", "Due tomorrow", "Due in 12 days". */
export function dueStatus(dueOn: string, today: string): { overdue: boolean; text: string } {
  const left = daysBetween(today, dueOn);
  if (!Number.isFinite(left)) return { overdue: false, text: "" };
  if (left < 0) return { overdue: true, text: `Overdue by ${days(-left)}` };
  if (left === 0) return { overdue: false, text: "Due today" };
  if (left === 1) return { overdue: false, text: "Due tomorrow" };
  return { overdue: false, text: `Due in ${days(left)}` };
}

/**
 * Whether the requester's identity was checked, in words: "Identity checked
 * on 05/11/2026 by ADV1" (`full`) or "Identity checked" for the list, and
 * "Identity not checked yet" until it is. No answer is made before.
 */
export function identityText(request: AccessRequest, full = false): string {
  const check = request.identity_checked;
  if (!check) return "Identity not checked yet";
  return full ? `Identity checked on ${formatUkDate(check.on)} by ${check.by}` : "Identity checked";
}

/**
 * Where one item stands. `answer`: the requester's own, in the answer;
 * `exempt`: their own, withheld under an exemption; `released`: someone
 * else's, released; `changed`: released, but its words changed since, so
 * withheld again; `withheld`: withheld until released; `never`: withheld
 * and never releasable (where the victim lives, from a perpetrator).
 */
export type ItemState =
  | { kind: "answer" }
  | { kind: "exempt"; reason: B.ExemptionReason }
  | { kind: "released" }
  | { kind: "changed"; because: B.WithheldBecause }
  | { kind: "withheld"; because: B.WithheldBecause }
  | { kind: "never"; because: B.WithheldBecause };

export function itemState(review: AccessReview, item: AccessItem): ItemState {
  const exempt = review.exempt.find(([key]) => key === item.key);
  if (item.withheld === null) return exempt ? { kind: "exempt", reason: exempt[1] } : { kind: "answer" };
  // What can never be released is never offered again, even if it was released before its words changed.
  if (!item.releasable) return { kind: "never", because: item.withheld };
  if (review.changed_since_release.includes(item.key)) return { kind: "changed", because: item.withheld };
  if (review.released.includes(item.key)) return { kind: "released" };
  return { kind: "withheld", because: item.withheld };
}

/** An item's state in words, as the review shows it beside the item. */
export function itemStateText(vocab: Vocabularies | null | undefined, state: ItemState): string {
  switch (state.kind) {
    case "answer":
      return "In the answer";
    case "exempt":
      return `Withheld: ${labelIn(vocab, "exemption_reasons", state.reason)}`;
    case "released":
      return "Released to the requester";
    case "changed":
      return "Changed since it was released: withheld again until you release it again";
    case "withheld":
      return `Withheld: ${labelIn(vocab, "withheld_reasons", state.because)}`;
    case "never":
      return `Withheld: ${labelIn(vocab, "withheld_reasons", state.because)}. This can never be released.`;
  }
}

/** How many items the answer gives (the requester's own and the released), how many of those were released, and how many are withheld. */
export function answerCounts(review: AccessReview): { inAnswer: number; released: number; withheld: number } {
  const counts = { inAnswer: 0, released: 0, withheld: 0 };
  for (const item of review.items) {
    const { kind } = itemState(review, item);
    if (kind === "answer") counts.inAnswer++;
    else if (kind === "released") {
      counts.inAnswer++;
      counts.released++;
    } else counts.withheld++;
  }
  return counts;
}

const items = (n: number) => `${n} ${n === 1 ? "item" : "items"}`;

/** The review's count line: "7 items in the answer, 2 of them released; 5 items withheld." */
export function answerCountsText(review: AccessReview): string {
  const { inAnswer, released, withheld } = answerCounts(review);
  const answer = `${items(inAnswer)} in the answer${released ? `, ${released} of them released` : ""}`;
  return `${answer}; ${withheld ? `${items(withheld)} withheld` : "nothing withheld"}.`;
}

/** One record's items, in record order, under the heading the review gives it. */
export type ItemGroup = { id: string; heading: string; items: AccessItem[] };

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The items by record: consecutive items of one record (and, for the clinic
 * panel's documents, of one part of them) make a group. A group is headed by
 * its panel part or its record kind, numbered when several share a heading.
 */
export function itemGroups(vocab: Vocabularies | null | undefined, all: AccessItem[]): ItemGroup[] {
  const groups: ItemGroup[] = [];
  let last: AccessItem | null = null;
  for (const item of all) {
    if (last && last.record_id === item.record_id && last.panel === item.panel) {
      groups[groups.length - 1].items.push(item);
    } else {
      const heading = item.panel ? labelIn(vocab, "panel_parts", item.panel) : capitalised(recordKindLabel(item.kind));
      groups.push({ id: `group-${groups.length}`, heading, items: [item] });
    }
    last = item;
  }
  const total = new Map<string, number>();
  for (const g of groups) total.set(g.heading, (total.get(g.heading) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const g of groups) {
    if ((total.get(g.heading) ?? 0) < 2) continue;
    const n = (seen.get(g.heading) ?? 0) + 1;
    seen.set(g.heading, n);
    g.heading = `${g.heading} ${n}`;
  }
  return groups;
}
