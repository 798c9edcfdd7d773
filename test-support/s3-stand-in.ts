// A stand-in for an S3-compatible store, for tests of lib/media-origins' S3Origin: path-style
// GET (whole or a Range), and PUT, over an R2 bucket, answering as S3 does (XML errors,
// 404 NoSuchKey, 206 with Content-Range). It checks what S3 checks for us: the SigV4
// signature, recomputed with aws4fetch's signer from the request's own signed headers and
// date and the one secret it knows (403 SignatureDoesNotMatch otherwise), and a PUT's
// x-amz-content-sha256 against the body (400 XAmzContentSHA256Mismatch). Not a mock of
// our code: the real S3Origin signs and sends, this verifies and stores.
import { AwsV4Signer } from "aws4fetch";
import { sha256Hex } from "../lib/hex.ts";

export type StandInOptions = { accessKeyId: string; secretAccessKey: string; region: string; bucket: string; store: R2Bucket };

const xmlError = (status: number, code: string) =>
  new Response(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`, {
    status,
    headers: { "Content-Type": "application/xml" },
  });


/** Whether `request`'s Authorization is the one `secretAccessKey` makes for it. */
async function signatureHolds(request: Request, o: StandInOptions): Promise<boolean> {
  const auth = request.headers.get("authorization") ?? "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
  const datetime = request.headers.get("x-amz-date");
  if (!m || !datetime || m[1] !== o.accessKeyId || m[3] !== o.region || datetime.slice(0, 8) !== m[2]) return false;
  const signed = m[4]!.split(";").filter((h) => h !== "host");
  const headers = new Headers();
  for (const h of signed) headers.set(h, request.headers.get(h) ?? "");
  const signer = new AwsV4Signer({
    method: request.method,
    url: request.url,
    headers,
    accessKeyId: o.accessKeyId,
    secretAccessKey: o.secretAccessKey,
    region: o.region,
    service: "s3",
    datetime,
  });
  const expected = (await signer.sign()).headers.get("authorization");
  return expected === auth;
}

export function s3StandIn(o: StandInOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const prefix = `/${o.bucket}/`;
    if (!url.pathname.startsWith(prefix)) return xmlError(404, "NoSuchBucket");
    if (!(await signatureHolds(request, o))) return xmlError(403, "SignatureDoesNotMatch");
    const key = url.pathname.slice(prefix.length).split("/").map(decodeURIComponent).join("/");
    if (request.method === "PUT") {
      const body = await request.arrayBuffer();
      const claimed = request.headers.get("x-amz-content-sha256");
      if (claimed !== "UNSIGNED-PAYLOAD" && claimed !== (await sha256Hex(new Uint8Array(body)))) return xmlError(400, "XAmzContentSHA256Mismatch");
      await o.store.put(key, body, { customMetadata: { sha256: request.headers.get("x-amz-meta-sha256") ?? "" } });
      return new Response(null, { status: 200, headers: { ETag: '"stand-in"' } });
    }
    if (request.method !== "GET") return xmlError(405, "MethodNotAllowed");
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.get("range") ?? "");
    const object = await o.store.get(key, range ? { range: { offset: Number(range[1]), length: Number(range[2]) - Number(range[1]) + 1 } } : {});
    if (!object) return xmlError(404, "NoSuchKey");
    if (!range) return new Response(object.body, { status: 200, headers: { "Content-Length": String(object.size) } });
    return new Response(object.body, { status: 206, headers: { "Content-Range": `bytes ${range[1]}-${range[2]}/${object.size}` } });
  };
}
