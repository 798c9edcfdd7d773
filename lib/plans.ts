// The plans a member can choose: how many screens at once and the best resolution class.

export const plans = [
  { id: "basic", name: "Basic", maxStreams: 1, maxHeight: 720, priceCents: 799, currency: "usd" },
  { id: "standard", name: "Standard", maxStreams: 2, maxHeight: 1080, priceCents: 1549, currency: "usd" },
  { id: "premium", name: "Premium", maxStreams: 4, maxHeight: 2160, priceCents: 2299, currency: "usd" },
] as const;

export type Plan = (typeof plans)[number];
export type PlanId = Plan["id"];

export const planIds = plans.map((p) => p.id) as [PlanId, ...PlanId[]];

export function planById(id: string): Plan | undefined {
  return plans.find((p) => p.id === id);
}
