// What the throttles count as one client: an IPv4 address, an IPv6 /64, nothing a client can choose.
import { describe, expect, it } from "vitest";
import { clientId, clientOf } from "../auth/client-address.ts";

describe("clientOf", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["  203.0.113.7 ", "203.0.113.7"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:0000:0000:0000:0001", "2001:db8:1:2::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:198.51.100.9", "198.51.100.9"],
    ["::ffff:c633:6409", "198.51.100.9"],
    ["2001:db8::1.2.3.4", "2001:db8:0:0::/64"],
  ])("%s is %s", (ip, client) => expect(clientOf(ip)).toBe(client));

  it.each([undefined, ""])("no address (%j) is the one client 'unknown'", (ip) => expect(clientOf(ip)).toBe("unknown"));

  it.each(["256.1.1.1", "1.2.3", "2001:db8::1::2", "2001:db8:1:2:3:4:5:6:7", "gggg::1", "x".repeat(100)])("%s is not an address: kept apart, bounded in length", (ip) => {
    const client = clientOf(ip);
    expect(client.startsWith("other:")).toBe(true);
    expect(client.length).toBeLessThanOrEqual(70);
  });

  it("is stored as a hash, never as the address", async () => {
    const id = await clientId(clientOf("203.0.113.7"));
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(id).not.toContain("203");
    expect(await clientId(clientOf("203.0.113.7"))).toBe(id);
  });
});
