// The home rows: arrow keys move between cards (←/→ along a row, ↑/↓ to the card at the
// same place in the row above or below, Home/End to a row's ends), with one tab stop per
// row (roving tabindex) so Tab goes row to row; and scroll buttons for pointer users.

const reducedMotion = () => matchMedia("(prefers-reduced-motion: reduce)").matches;

function cardsOf(row: Element): HTMLAnchorElement[] {
  return [...row.querySelectorAll<HTMLAnchorElement>("a.card")];
}

function moveFocus(from: HTMLAnchorElement, to: HTMLAnchorElement | undefined): void {
  if (!to || to === from) return;
  const fromRow = from.closest("section.row");
  const toRow = to.closest("section.row");
  // The row being left keeps its place (the card it was on stays its tab stop).
  if (fromRow === toRow) from.tabIndex = -1;
  if (toRow) for (const card of cardsOf(toRow)) card.tabIndex = card === to ? 0 : -1;
  to.focus({ preventScroll: true });
  to.scrollIntoView({ block: "nearest", inline: "nearest", behavior: reducedMotion() ? "auto" : "smooth" });
}

/** The card of `row` whose left edge is nearest `x`: the same column, visually. */
function nearest(row: Element, x: number): HTMLAnchorElement | undefined {
  let best: HTMLAnchorElement | undefined;
  let distance = Infinity;
  for (const card of cardsOf(row)) {
    const d = Math.abs(card.getBoundingClientRect().left - x);
    if (d < distance) {
      distance = d;
      best = card;
    }
  }
  return best;
}

function addScrollButtons(row: HTMLElement): void {
  const list = row.querySelector<HTMLElement>(".row-items");
  if (!list) return;
  for (const [direction, label] of [
    [-1, "‹"],
    [1, "›"],
  ] as const) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `row-scroll row-scroll-${direction < 0 ? "prev" : "next"}`;
    button.textContent = label;
    // Keyboard users have the arrow keys; these are for pointers only.
    button.tabIndex = -1;
    button.setAttribute("aria-hidden", "true");
    button.addEventListener("click", () => list.scrollBy({ left: direction * list.clientWidth * 0.85, behavior: reducedMotion() ? "auto" : "smooth" }));
    row.append(button);
  }
  const update = () => {
    row.classList.toggle("can-scroll-prev", list.scrollLeft > 4);
    row.classList.toggle("can-scroll-next", list.scrollLeft + list.clientWidth < list.scrollWidth - 4);
  };
  list.addEventListener("scroll", update, { passive: true });
  addEventListener("resize", update, { passive: true });
  update();
}

export function initRows(): void {
  const rows = [...document.querySelectorAll<HTMLElement>("section.row")];
  if (rows.length === 0) return;
  for (const row of rows) {
    cardsOf(row).forEach((card, i) => (card.tabIndex = i === 0 ? 0 : -1));
    addScrollButtons(row);
  }
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const card = (event.target as Element | null)?.closest?.<HTMLAnchorElement>("section.row a.card");
    if (!card) return;
    const row = card.closest<HTMLElement>("section.row")!;
    const cards = cardsOf(row);
    const at = cards.indexOf(card);
    const rowAt = rows.indexOf(row);
    let to: HTMLAnchorElement | undefined;
    switch (event.key) {
      case "ArrowRight":
        to = cards[at + 1];
        break;
      case "ArrowLeft":
        to = cards[at - 1];
        break;
      case "Home":
        to = cards[0];
        break;
      case "End":
        to = cards.at(-1);
        break;
      case "ArrowDown":
        to = rows[rowAt + 1] && nearest(rows[rowAt + 1]!, card.getBoundingClientRect().left);
        break;
      case "ArrowUp":
        to = rows[rowAt - 1] && nearest(rows[rowAt - 1]!, card.getBoundingClientRect().left);
        break;
      default:
        return;
    }
    // Above the first row or below the last, ↑/↓ scroll the page as usual; at a row's
    // ends ←/→ do nothing rather than scroll the row away from the focused card.
    if (!to && (event.key === "ArrowUp" || event.key === "ArrowDown")) return;
    event.preventDefault();
    moveFocus(card, to);
  });
}
