// `npm run deploy`: applies remote D1 migrations, then deploys the media Worker and the api
// Worker (in that order: the api's service binding needs media to exist), each stamped
// with the git version. Needs `wrangler login` or CLOUDFLARE_API_TOKEN; see docs/deploy.md.
import { buildVersion } from "./build-version.ts";
import { buildWeb } from "./build-web.ts";
import { apiConfig, mediaConfig } from "./project.ts";
import { runWrangler } from "./wrangler.ts";

const version = buildVersion();
if (version.endsWith("-dirty") && !process.argv.includes("--allow-dirty")) {
  console.error(`refusing to deploy uncommitted changes (${version}); commit them or pass --allow-dirty`);
  process.exit(1);
}
await buildWeb();
await runWrangler(["d1", "migrations", "apply", "DB", "--remote", "--config", apiConfig]);
for (const config of [mediaConfig, apiConfig]) {
  await runWrangler(["deploy", "--minify", "--config", config, "--var", `BUILD_VERSION:${version}`]);
}
console.log(`deployed ${version}`);
