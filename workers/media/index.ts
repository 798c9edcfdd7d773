// The media Worker's entry point.
import { createMediaApp } from "./app.ts";

const app = createMediaApp();

export default { fetch: app.fetch } satisfies ExportedHandler<MediaEnv>;
