// Who a request comes from, as the throttles count it: Cloudflare's CF-Connecting-IP (never
// X-Forwarded-For, which any client can write), an IPv6 address reduced to its /64.

/**
 * One client per IPv4 address and per IPv6 /64: a single host is usually given a whole
 * /64 and can use any of its 2^64 addresses, so counting whole addresses would let one
 * machine spread its attempts over as many counters as it likes.
 */
export function clientOf(connectingIp: string | undefined): string {
  const ip = (connectingIp ?? "").trim();
  if (ip === "") return "unknown";
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255) ? v4.slice(1).map(Number).join(".") : `other:${ip.slice(0, 64)}`;
  const groups = ipv6Groups(ip);
  if (!groups) return `other:${ip.slice(0, 64)}`;
  // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 client.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join(".");
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a trailing dotted IPv4), or null. */
function ipv6Groups(text: string): number[] | null {
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  let head = text;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const octets = dotted.slice(2).map(Number);
    if (octets.some((o) => o > 255)) return null;
    tail.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
    head = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  const all = [...left, ...right];
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return null;
  const missing = 8 - tail.length - all.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...left.map((g) => parseInt(g, 16)), ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right.map((g) => parseInt(g, 16)), ...tail];
}

/** What the throttle objects store for a client: its SHA-256, never the address itself. */
export async function clientId(client: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`client\0${client}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
