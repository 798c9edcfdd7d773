// A title's poster as a small SVG (2:3), derived only from its id, name and year: a
// two-colour gradient, one of a few geometric patterns, and the name set in type.

/** FNV-1a: a stable 32-bit hash of the title id. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (const ch of text) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);

/** Greedy word wrap to lines of at most `width` characters (a long word gets its own line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export function posterSvg(id: string, name: string, year: number): string {
  let h = hash(id);
  const next = (n: number) => {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    return h % n;
  };
  const hue = next(360);
  const hue2 = (hue + 40 + next(140)) % 360;
  const top = `hsl(${hue},${55 + next(30)}%,${30 + next(20)}%)`;
  const bottom = `hsl(${hue2},${45 + next(35)}%,${10 + next(14)}%)`;
  const ink = `hsl(${(hue + 180) % 360},80%,75%)`;
  const shapes: string[] = [];
  switch (next(5)) {
    case 0: // concentric rings
      for (let r = 20 + next(20), cx = 40 + next(120), cy = 50 + next(100); r < 260; r += 22 + next(12))
        shapes.push(`<circle cx="${cx}" cy="${cy}" r="${r}"/>`);
      break;
    case 1: // diagonal stripes
      for (let x = -300 + next(30); x < 200; x += 26 + next(14)) shapes.push(`<path d="M${x} 300L${x + 300} 0"/>`);
      break;
    case 2: // scattered circles
      for (let i = 0; i < 7; i++) shapes.push(`<circle cx="${next(200)}" cy="${next(190)}" r="${6 + next(38)}"/>`);
      break;
    case 3: // nested triangles
      for (let s = 30; s < 200; s += 24 + next(10)) shapes.push(`<path d="M100 ${110 - s}L${100 + s} ${110 + s * 0.8}L${100 - s} ${110 + s * 0.8}Z"/>`);
      break;
    default: // horizon bands
      for (let y = 40 + next(30); y < 200; y += 14 + next(18)) shapes.push(`<path d="M0 ${y}H200"/>`);
  }
  const longest = Math.max(...name.split(/\s+/).map((w) => w.length));
  const lines = wrap(name, Math.max(12, longest));
  const size = Math.min(30, Math.floor(172 / (Math.max(...lines.map((l) => l.length)) * 0.66)));
  const firstY = 262 - (lines.length - 1) * size * 1.1;
  const text = lines
    .map((l, i) => `<tspan x="14" y="${Math.round(firstY + i * size * 1.1)}">${escapeXml(l)}</tspan>`)
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 300" width="200" height="300" role="img" aria-label="${escapeXml(name)}">` +
    `<title>${escapeXml(name)}</title>` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="0.4" y2="1"><stop offset="0" stop-color="${top}"/><stop offset="1" stop-color="${bottom}"/></linearGradient></defs>` +
    `<rect width="200" height="300" fill="url(#g)"/>` +
    `<g fill="none" stroke="${ink}" stroke-opacity="0.35" stroke-width="${2 + next(4)}">${shapes.join("")}</g>` +
    `<rect y="190" width="200" height="110" fill="#000" fill-opacity="0.35"/>` +
    `<text font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-weight="700" font-size="${size}" fill="#fff">${text}</text>` +
    `<text x="14" y="288" font-family="system-ui,sans-serif" font-size="10" fill="#fff" fill-opacity="0.7" letter-spacing="2">${year}</text>` +
    `</svg>\n`
  );
}
