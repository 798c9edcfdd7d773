// `npm run live -- <video> | --test-pattern …`: creates a live event through the admin API,
// pushes the video to its ingest URL with ffmpeg, and ends the event when ffmpeg stops
// (at the end of the file, after --duration, or on Ctrl-C / SIGTERM, which count as a
// clean stop). Exit 2 for bad usage; 1 when ffmpeg or the API failed.
import { existsSync } from "node:fs";
import path from "node:path";
import { readDevVar } from "../dev-vars.ts";
import { AdminApi, AdminApiError } from "../ingest/admin-api.ts";
import { IngestInputError } from "../ingest/errors.ts";
import { requireFfmpeg } from "../ingest/ffmpeg.ts";
import { probeSource } from "../ingest/probe.ts";
import { projectRoot } from "../project.ts";
import { parseLiveArgs, usage, UsageError, type LiveArgs } from "./cli-args.ts";
import { formatCommand, liveFfmpegArgs, type LiveInput } from "./ffmpeg-command.ts";
import { createLive, endLive, liveStatus, statusUrl, uploadsLanded, type LiveStatus } from "./live-api.ts";
import { runFfmpeg } from "./run-ffmpeg.ts";

const isLocal = (api: string) => /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/.test(api);

async function adminToken(args: LiveArgs): Promise<string> {
  if (args.adminToken) return args.adminToken;
  // Against `npm run dev`, the local secret is the obvious one; never guess for a remote API.
  if (isLocal(args.api) && existsSync(path.join(projectRoot, ".dev.vars"))) return readDevVar("ADMIN_TOKEN");
  throw new UsageError("give --admin-token (or set MARQUEE_ADMIN_TOKEN) for a remote API");
}

/** Checked before the event exists, so a bad file leaves no empty event behind. */
async function resolveInput(args: LiveArgs): Promise<LiveInput> {
  if (args.input.kind === "test-pattern") return args.input;
  const source = await probeSource(args.input.path);
  return { kind: "file", path: args.input.path, hasAudio: source.hasAudio };
}

function summary(status: LiveStatus): string {
  const parts = [`${status.liveId} is ${status.state}`, `${status.segments} segments`];
  if (status.lastSegmentAt) parts.push(`last at ${status.lastSegmentAt}`);
  if (status.ingestBitrateKbps != null) parts.push(`ingest ${Math.round(status.ingestBitrateKbps)} kb/s`);
  // A list of errors or a count of them: either reads as a count here.
  const errors: unknown[] = Array.isArray(status.errors) ? status.errors : [];
  const count = typeof status.errors === "number" ? status.errors : errors.length;
  parts.push(`${count} error${count === 1 ? "" : "s"}`);
  const lines = [parts.join(", ")];
  // The latest few say what went wrong; a long run can collect many.
  for (const e of errors.slice(-3)) lines.push(`  ${typeof e === "string" ? e : JSON.stringify(e)}`);
  return lines.join("\n");
}

/** Ends the event, saying so on failure: the caller still has a status to show. */
async function end(api: AdminApi, liveId: string): Promise<boolean> {
  try {
    await endLive(api, liveId);
    return true;
  } catch (err) {
    console.error(`live: could not end ${liveId}: ${(err as Error).message}`);
    return false;
  }
}

async function live(args: LiveArgs): Promise<number> {
  try {
    requireFfmpeg();
  } catch (err) {
    console.error(`live: ${(err as Error).message}`);
    return 1;
  }
  const input = await resolveInput(args);
  const api = new AdminApi(args.api, await adminToken(args));

  const event = await createLive(api, { name: args.name, ...(args.titleId ? { titleId: args.titleId } : {}) });
  console.log(`live event ${event.liveId} (title ${event.titleId})\nstatus: ${statusUrl(api, event.liveId)}`);
  let ffmpegArgs: string[];
  try {
    ffmpegArgs = liveFfmpegArgs(input, event.ladder, event.ingest, args.durationSec !== undefined ? { durationSec: args.durationSec } : {});
  } catch (err) {
    // A ladder this tool cannot encode: do not leave an event waiting for a stream that never comes.
    await end(api, event.liveId);
    throw err;
  }

  if (args.print) {
    console.log(formatCommand(ffmpegArgs));
    console.log(`the event stays open; end it with: DELETE ${statusUrl(api, event.liveId)}`);
    return 0;
  }

  const outcome = await runFfmpeg(ffmpegArgs);
  const failed = outcome.stoppedBy === null && outcome.code !== 0;
  if (failed) console.error(`live: ffmpeg failed (${outcome.code === null ? "killed by a signal" : `exit ${outcome.code}`})`);

  // Ending can take a moment; a second interrupt then abandons it rather than being swallowed.
  const abandon = () => {
    console.error(`\nlive: interrupted; ${event.liveId} may still be open`);
    process.exit(130);
  };
  process.once("SIGINT", abandon).once("SIGTERM", abandon);

  // ffmpeg exits without waiting for the answers to its last PUTs: give them time to land.
  await uploadsLanded(api, event.liveId);
  const ended = args.keepOpen || (await end(api, event.liveId));
  try {
    const status = await liveStatus(api, event.liveId);
    console.log(summary(status));
    // ffmpeg's HLS muxer ignores the answers to its PUTs: a push the server refused still exits 0.
    if (!failed && status.segments === 0) console.error("live: warning: the server recorded no segments; see its errors");
  } catch (err) {
    console.error(`live: could not read the final status: ${(err as Error).message}`);
  }
  if (args.keepOpen) console.log(`left open (--keep-open); end it with: DELETE ${statusUrl(api, event.liveId)}`);
  return failed || !ended ? 1 : 0;
}

async function main(): Promise<number> {
  let args: LiveArgs;
  try {
    args = parseLiveArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`live: ${err.message}\n${usage}`);
    return 2;
  }
  try {
    return await live(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`live: ${err.message}`);
      return 2;
    }
    const known = err instanceof AdminApiError || err instanceof IngestInputError || err instanceof RangeError;
    console.error(`live: ${(err as Error).message ?? err}`);
    if (!known) console.error((err as Error).stack);
    return 1;
  }
}

process.exit(await main());
