// hls.js built from its own sources (shipped in the npm package) instead of its prebuilt
// bundle, so tools/build-web.ts can leave out what Marquee never plays — see HLS_FEATURES
// there. JavaScript, not TypeScript: the web project type-checks against hls.js's published
// types (dist/hls.d.ts), never against its sources.
export { default } from "../../node_modules/hls.js/src/hls.ts";
export { ErrorDetails, ErrorTypes } from "../../node_modules/hls.js/src/errors.ts";
export { Events } from "../../node_modules/hls.js/src/events.ts";
