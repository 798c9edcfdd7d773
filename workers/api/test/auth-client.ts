// Signing up and calling the api as a member, from tests.
import { exports } from "cloudflare:workers";
import { simulatedClientAddress } from "../../../test-support/simulated-clients.ts";

let counter = 0;
let clients = 0;

/** A client address of its own for each simulated person: sign-up is throttled per client. */
export function newClientAddress(): string {
  return simulatedClientAddress(++clients);
}

/** A fresh account signed in as a device; `headers` authenticates further requests. */
export async function signUp(email = `member${Date.now()}-${++counter}@example.com`, password = "correct horse battery staple") {
  const res = await exports.default.fetch("https://marquee.test/v1/auth/signup", {
    method: "POST",
    headers: { "content-type": "application/json", "CF-Connecting-IP": newClientAddress() },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 201) throw new Error(`signup ${email}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { accountId: string; token: string };
  return { email, password, token: body.token, accountId: body.accountId, headers: { Authorization: `Bearer ${body.token}` } };
}

/** A request to the api Worker, JSON in and out. */
export function call(path: string, init: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) {
  return exports.default.fetch(`https://marquee.test${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers: { ...(init.json === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}
