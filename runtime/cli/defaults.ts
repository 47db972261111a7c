/** Defaults of CLI options, kept apart so that parsing the command line loads no database code. */

/** Workers `toolshed demo` generates. */
export const DEFAULT_DEMO_WORKERS = 5_000;
/** Workers in the demo data `toolshed run` loads for itself: fewer, so a one-off run starts quickly. */
export const CLI_DEMO_WORKERS = 1_000;
