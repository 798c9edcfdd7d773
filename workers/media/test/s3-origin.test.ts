// An S3-compatible replica (lib/media-origins/origins.ts S3Origin) against a stand-in store
// that verifies SigV4 signatures and payload hashes the way S3 does
// (test-support/s3-stand-in.ts), over a real R2 bucket: what the publish step writes and
// the media Worker reads, byte for byte; a wrong secret and a damaged body refused; a
// failing store counted against the origin's own breaker, `s3:p3`, which steering reads.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { DependencyError, dependencyHealth, resetBreakers } from "../../../lib/bindings/guard.ts";
import { S3Origin } from "../../../lib/media-origins/origins.ts";
import { parsePathways } from "../../../lib/media-origins/pathways.ts";
import { s3StandIn } from "../../../test-support/s3-stand-in.ts";
import { sha256Hex } from "../../../lib/hex.ts";

const SPEC = "p2=r2:MEDIA_REPLICA,p3=s3:https://s3.eu-central-1.amazonaws.com/marquee-media@eu-central-1";
const s3 = parsePathways(SPEC)[2]!.origin as Extract<ReturnType<typeof parsePathways>[number]["origin"], { kind: "s3" }>;
const credentials = { accessKeyId: "AKIDSTANDIN", secretAccessKey: "stand-in-secret-0123456789" };
const store = s3StandIn({ ...credentials, region: "eu-central-1", bucket: "marquee-media", store: env.MEDIA_REPLICA });

function origin(secretAccessKey = credentials.secretAccessKey, fetcher = store) {
  return new S3Origin("p3", s3, { ...credentials, secretAccessKey }, {}, fetcher);
}


const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const read = async (body: ReadableStream | null) => (body ? new Uint8Array(await new Response(body).arrayBuffer()) : null);

beforeEach(() => resetBreakers());

describe("an S3-compatible origin", () => {
  it("is parsed from MEDIA_REPLICAS as a path-style endpoint with its region", () => {
    expect(s3).toEqual({ kind: "s3", endpoint: "https://s3.eu-central-1.amazonaws.com", bucket: "marquee-media", region: "eu-central-1" });
    for (const bad of ["p3=s3:http://s3.example.com/b@r", "p3=s3:https://s3.example.com/b", "p3=s3:https://s3.example.com/@r", "p3=s3:https://s3.example.com/b?x=1@r", "p1=r2:MEDIA_X", "p2=r2:MEDIA", "p2=r2:A,p2=r2:B"]) {
      expect(() => parsePathways(bad), bad).toThrow();
    }
  });

  it("puts a file, signed and hashed, and gets it back whole and in spans", async () => {
    const data = bytes(70_000, 3);
    const o = origin();
    await o.put("assets/s3-a/240p/1.m4s", new Response(data).body!, { bytes: data.byteLength, sha256: await sha256Hex(data), contentType: "video/iso.segment" });
    expect(await read(await o.get("assets/s3-a/240p/1.m4s"))).toEqual(data);
    expect(await read(await o.get("assets/s3-a/240p/1.m4s", { offset: 1000, length: 500 }))).toEqual(data.subarray(1000, 1500));
    expect((await env.MEDIA_REPLICA.get("assets/s3-a/240p/1.m4s"))!.customMetadata).toEqual({ sha256: await sha256Hex(data) });
  });

  it("keys with spaces and other characters are encoded and come back the same", async () => {
    const o = origin();
    const text = "WEBVTT\n\n00:00.000 --> 00:01.000\nÉté\n";
    const data = new TextEncoder().encode(text);
    await o.put("assets/s3-b/subs/pt BR/été.vtt", data, { bytes: data.byteLength, sha256: await sha256Hex(data), contentType: "text/vtt" });
    expect(await o.text("assets/s3-b/subs/pt BR/été.vtt")).toBe(text);
  });

  it("a missing object is null, not an error", async () => {
    expect(await origin().get("assets/none/240p/1.m4s")).toBeNull();
    expect(await origin().text("assets/none/index.json")).toBeNull();
  });

  it("a wrong secret is refused by the store: a dependency failure, nothing written", async () => {
    const data = bytes(100, 1);
    const wrong = origin("not-the-secret");
    await expect(wrong.put("assets/s3-c/x.m4s", data, { bytes: 100, sha256: await sha256Hex(data), contentType: "video/iso.segment" })).rejects.toBeInstanceOf(DependencyError);
    expect(await env.MEDIA_REPLICA.head("assets/s3-c/x.m4s")).toBeNull();
    await expect(wrong.get("assets/s3-a/240p/1.m4s")).rejects.toThrow(/403/);
  });

  it("a signed header changed on the way is refused: the stand-in checks the signature, not just its shape", async () => {
    const data = bytes(100, 4);
    const tampering = origin(credentials.secretAccessKey, (request) => {
      const headers = new Headers(request.headers);
      headers.set("x-amz-meta-sha256", "f".repeat(64));
      return store(new Request(request, { headers }));
    });
    await expect(tampering.put("assets/s3-e/x.m4s", data, { bytes: 100, sha256: await sha256Hex(data), contentType: "video/iso.segment" })).rejects.toThrow(/403/);
    expect(await env.MEDIA_REPLICA.head("assets/s3-e/x.m4s")).toBeNull();
  });

  it("a body that does not hash to what the index says is refused: a damaged copy is never kept", async () => {
    const data = bytes(100, 2);
    await expect(origin().put("assets/s3-d/x.m4s", data, { bytes: 100, sha256: "0".repeat(64), contentType: "video/iso.segment" })).rejects.toThrow(/400 XAmzContentSHA256Mismatch/);
    expect(await env.MEDIA_REPLICA.head("assets/s3-d/x.m4s")).toBeNull();
    // The copy's fault, not the store's: it counts as the store working.
    expect(dependencyHealth("s3:p3")).toMatchObject({ calls: 1, failed: 0 });
  });

  it("a store that answers 500 counts against s3:p3's breaker, which steering reads as its health", async () => {
    const failing = origin(credentials.secretAccessKey, async () => new Response("<Error><Code>InternalError</Code></Error>", { status: 500 }));
    for (let i = 0; i < 4; i++) await expect(failing.get("assets/s3-a/240p/1.m4s")).rejects.toThrow(/500/);
    expect(dependencyHealth("s3:p3")).toMatchObject({ calls: 4, failed: 4 });
  });
});
