/**
 * The baseline that bench/lookup.ts compares toolshed with: worker-lookup written by hand as one
 * Fastify route over a `pg` pool. It does the work toolshed does for this tool, without the
 * generic parts:
 * - Bearer API key check (SHA-256 digests compared with timingSafeEqual, as toolshed does).
 * - Body validation with a Fastify JSON Schema (Ajv with the email format).
 * - A pool of 10 connections with search_path toolshed_demo, the size toolshed's pool defaults to.
 * - The three queries of tools/worker-lookup.yaml as named prepared statements, in one READ ONLY
 *   transaction with statement_timeout 5000 ms (toolshed's default tool timeout), lists capped at
 *   100 rows.
 * - The text of the tool's template, built with string concatenation, and the JSON shape of
 *   toolshed's POST /tools/NAME/run response (run_id, tool, ok, status, not_found, text, data).
 * Logging is a pino logger at level warn, as in the toolshed server, so no request is logged.
 *
 * With BENCH_BASELINE_UNNAMED=1 it sends the queries as unnamed statements, which PostgreSQL
 * parses and plans on every run, so a run shows what prepared statements save.
 *
 * Runs as a child process of bench/lookup.ts, which sets BENCH_DATABASE_URL and BENCH_API_KEY.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import { requireEnv, serveForParent } from './child-server.js';

const TOOL_NAME = 'worker-lookup';
const STATEMENT_TIMEOUT_MS = 5_000;
/** Rows shown per list, as toolshed's default step limit; one more is fetched to detect truncation. */
const LIST_LIMIT = 100;

const WORKER_SQL = `select id, full_name, email, phone, home_zip, status, created_at
from workers where lower(email) = lower($1)`;
const CERTIFICATIONS_SQL = `select c.name, wc.status, wc.certified_on, wc.expires_on
from worker_certifications wc join certifications c on c.id = wc.certification_id
where wc.worker_id = $1 order by c.name limit ${LIST_LIMIT + 1}`;
const APPLICATIONS_SQL = `select t.id as ticket_id, t.title, t.company, a.status, a.applied_at
from ticket_applications a join tickets t on t.id = a.ticket_id
where a.worker_id = $1 order by a.applied_at desc, a.id desc limit ${LIST_LIMIT + 1}`;

/** PostgreSQL type OIDs whose default `pg` parsing would change the output. */
const INT8_OID = 20;
const DATE_OID = 1082;

/** The same conversions toolshed's pool makes: dates stay 'YYYY-MM-DD' strings, bigint ids become numbers. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === DATE_OID) return (text: string) => text;
    if (oid === INT8_OID) return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

interface WorkerRow {
  id: number;
  full_name: string;
  email: string;
  phone: string | null;
  home_zip: string | null;
  status: string;
  created_at: Date;
}

interface CertificationRow {
  name: string;
  status: string;
  certified_on: string;
  expires_on: string | null;
}

interface ApplicationRow {
  ticket_id: number;
  title: string;
  company: string;
  status: string;
  applied_at: Date;
}

interface Lookup {
  worker: WorkerRow;
  certifications: CertificationRow[];
  applications: ApplicationRow[];
}

const pool = new pg.Pool({
  connectionString: requireEnv('BENCH_DATABASE_URL'),
  max: 10,
  connectionTimeoutMillis: 3_000,
  idleTimeoutMillis: 30_000,
  types,
  application_name: 'toolshed-bench-baseline',
  options: '-c search_path=toolshed_demo',
});
pool.on('error', () => undefined);

const apiKeyDigest = sha256(requireEnv('BENCH_API_KEY'));
const unnamedStatements = process.env.BENCH_BASELINE_UNNAMED === '1';

/** Runs one query, as a named prepared statement unless BENCH_BASELINE_UNNAMED=1. */
async function query<Row extends pg.QueryResultRow>(client: pg.PoolClient, name: string, text: string, values: unknown[]): Promise<Row[]> {
  const result = await client.query<Row>(unnamedStatements ? { text, values } : { name, text, values });
  return result.rows;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function isAuthorized(authorization: string | undefined): boolean {
  const token = /^Bearer +(\S+)$/i.exec(authorization ?? '')?.[1];
  return token !== undefined && timingSafeEqual(sha256(token), apiKeyDigest);
}

/** Runs the three queries in one read-only transaction; undefined when no worker has the email. */
async function lookUp(email: string): Promise<Lookup | undefined> {
  const client = await pool.connect();
  let broken = false;
  try {
    // One round trip: a simple-protocol query may contain several statements.
    await client.query(`begin transaction read only; set local statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
    const worker = (await query<WorkerRow>(client, 'baseline_worker', WORKER_SQL, [email]))[0];
    let result: Lookup | undefined;
    if (worker !== undefined) {
      const certifications = await query<CertificationRow>(client, 'baseline_certifications', CERTIFICATIONS_SQL, [worker.id]);
      const applications = await query<ApplicationRow>(client, 'baseline_applications', APPLICATIONS_SQL, [worker.id]);
      result = { worker, certifications, applications };
    }
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

function isoDate(value: Date | string): string {
  return typeof value === 'string' ? value : value.toISOString().slice(0, 10);
}

/**
 * Builds the text that the output template of tools/worker-lookup.yaml renders. When that
 * template changes, this must change with it; bench/lookup.ts compares the two before each run.
 */
function formatText(lookup: Lookup): string {
  const { worker } = lookup;
  const certifications = lookup.certifications.slice(0, LIST_LIMIT);
  const applications = lookup.applications.slice(0, LIST_LIMIT);
  const homeZip = worker.home_zip === null || worker.home_zip === '' ? '-' : worker.home_zip;

  let text = `*${worker.full_name}* (${worker.email}), ${worker.status}, home zip ${homeZip}\n`;
  text += `Certifications (${certifications.length}):\n`;
  for (const certification of certifications) {
    const expires = certification.expires_on === null ? '' : `, expires ${isoDate(certification.expires_on)}`;
    text += `• ${certification.name}: ${certification.status} since ${isoDate(certification.certified_on)}${expires}\n`;
  }
  text += `Ticket applications, newest first (${applications.length}):\n`;
  for (const application of applications) {
    text += `• ${isoDate(application.applied_at)} #${application.ticket_id} ${application.title} at ${application.company}: ${application.status}\n`;
  }

  if (lookup.certifications.length > LIST_LIMIT) text += `\n(Only the first ${LIST_LIMIT} rows of certifications are shown.)`;
  if (lookup.applications.length > LIST_LIMIT) text += `\n(Only the first ${LIST_LIMIT} rows of applications are shown.)`;
  return text.trimEnd();
}

const app = Fastify({ logger: { level: 'warn' } });

app.post<{ Body: { email: string } }>(`/tools/${TOOL_NAME}/run`, {
  schema: {
    body: {
      type: 'object',
      required: ['email'],
      additionalProperties: false,
      properties: { email: { type: 'string', format: 'email', maxLength: 10_000 } },
    },
  },
  handler: async (request, reply) => {
    const runId = randomUUID();
    if (!isAuthorized(request.headers.authorization)) {
      return reply.code(401).send({ run_id: runId, ok: false, error: { code: 'TOOLSHED_ERR_UNAUTHORIZED', message: 'The API key is missing or not valid.' } });
    }

    const email = request.body.email.trim();
    const lookup = await lookUp(email);
    if (lookup === undefined) {
      const text = `No worker has the email ${email}. Check the spelling, or search by another address.`;
      return { run_id: runId, tool: TOOL_NAME, ok: true, status: 'not_found', not_found: true, text, data: {} };
    }
    const data = {
      worker: lookup.worker,
      certifications: lookup.certifications.slice(0, LIST_LIMIT),
      applications: lookup.applications.slice(0, LIST_LIMIT),
    };
    return { run_id: runId, tool: TOOL_NAME, ok: true, status: 'done', not_found: false, text: formatText(lookup), data };
  },
});

await serveForParent(app, async () => {
  await app.close();
  await pool.end();
});
