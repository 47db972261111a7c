/**
 * Valid tool files for bench/startup.ts: five shapes modeled on worker-lookup (lookup by email,
 * worker id, zip code, ticket id and device platform), each with 2 or 3 steps and its own
 * template. The index varies the name, limits, timeout, access roles and wording, so no two files
 * are the same and the loader compiles every one of them from scratch.
 */

export interface ToolFileText {
  /** File name inside the tools directory, such as tool-007-worker-profile.yaml. */
  fileName: string;
  name: string;
  text: string;
}

type Shape = (index: number) => { name: string; body: string };

const byEmail: Shape = (index) => ({
  name: `worker-profile-${index}`,
  body: `title: Worker profile ${index}
description: A worker's certifications and devices, found by email (variation ${index}).
inputs:
  email:
    type: string
    format: email
    description: The worker's email address, in any letter case.
    examples: [sarah.le1@example.com]
steps:
  - id: worker
    expect: one
    sql: |
      select id, full_name, email, status, home_zip, created_at
      from workers where lower(email) = lower(:email)
  - id: certifications
    limit: ${10 + (index % 40)}
    sql: |
      select c.name, wc.status, wc.certified_on, wc.expires_on
      from worker_certifications wc join certifications c on c.id = wc.certification_id
      where wc.worker_id = :worker.id order by c.name
  - id: devices
    sql: |
      select platform, enabled, last_seen_at from devices where worker_id = :worker.id order by id
not_found: No worker has the email {{email}} (profile ${index}). Check the spelling.
output:
  text: |
    *{{worker.full_name}}* ({{worker.status}}), home zip {{default worker.home_zip "unknown"}}, joined {{date worker.created_at}}
    {{plural (count certifications) "certification"}}:
    {{table certifications "name" "status" "certified_on"}}
    Devices ({{count devices}}):
    {{#each devices}}
    • {{platform}}{{#unless enabled}} (disabled){{/unless}}, last seen {{datetime last_seen_at}}
    {{else}}• none
    {{/each}}
`,
});

const byWorkerId: Shape = (index) => ({
  name: `worker-applications-${index}`,
  body: `title: Applications of worker ${index}
description: The ticket applications of one worker, found by id.
inputs:
  worker_id:
    type: integer
    minimum: 1
    description: The worker's numeric id.
    examples: [1]
steps:
  - id: worker
    expect: one
    sql: select id, full_name, status from workers where id = :worker_id
  - id: applications
    limit: ${5 + (index % 30)}
    sql: |
      select a.status, a.applied_at, t.title, t.company, t.pay_cents
      from ticket_applications a join tickets t on t.id = a.ticket_id
      where a.worker_id = :worker.id order by a.applied_at desc
not_found: There is no worker with id {{worker_id}}.
timeout: ${2 + (index % 8)}s
output:
  text: |
    {{worker.full_name}} ({{worker.status}}): {{plural (count applications) "application"}}
    {{#each applications}}
    • {{datetime applied_at}} {{truncate title ${20 + (index % 20)}}} at {{company}}, {{money pay_cents}}: {{status}}
    {{/each}}
`,
});

const byZip: Shape = (index) => ({
  name: `workers-in-zip-${index}`,
  body: `title: Workers in a zip code (${index})
description: Workers whose home is in one zip code, newest first.
inputs:
  zip:
    type: string
    pattern: "^[0-9]{5}$"
    description: A five-digit US zip code.
    examples: ["94107"]
  status:
    type: string
    enum: [active, inactive, suspended]
    default: active
    description: Only workers with this status.
steps:
  - id: place
    expect: optional
    sql: select zip_code, latitude, longitude from zip_codes where zip_code = :zip
  - id: workers
    limit: ${20 + index}
    sql: |
      select full_name, email, created_at from workers
      where home_zip = :zip and status = :status order by created_at desc
output:
  text: |
    {{#if place}}Zip {{place.zip_code}} at {{number place.latitude 3}}, {{number place.longitude 3}}{{else}}Unknown zip {{zip}}{{/if}}
    {{plural (count workers) "worker"}} with status {{status}}:
    {{#each workers}}
    • {{full_name}} <{{lower email}}>, joined {{date created_at}}
    {{else}}• none
    {{/each}}
  data: [workers]
`,
});

const byTicket: Shape = (index) => ({
  name: `ticket-applicants-${index}`,
  body: `title: Applicants for a ticket (${index})
description: A ticket, how many workers applied, and the first applicants.
inputs:
  ticket_id:
    type: integer
    minimum: 1
    description: The ticket's numeric id.
    examples: [1]
steps:
  - id: ticket
    expect: one
    sql: select id, title, company, zip_code, pay_cents, status, starts_at from tickets where id = :ticket_id
  - id: counts
    expect: optional
    sql: |
      select count(*) as applications, count(*) filter (where status = 'accepted') as accepted
      from ticket_applications where ticket_id = :ticket.id
  - id: applicants
    limit: ${10 + (index % 15)}
    sql: |
      select w.full_name, a.status, a.applied_at
      from ticket_applications a join workers w on w.id = a.worker_id
      where a.ticket_id = :ticket.id order by a.applied_at
not_found: There is no ticket {{ticket_id}}.
${index % 3 === 0 ? 'access:\n  roles: [support, support-lead]\n' : ''}output:
  text: |
    #{{ticket.id}} {{ticket.title}} at {{ticket.company}} ({{upper ticket.status}}), pays {{money ticket.pay_cents}}
    Starts {{datetime ticket.starts_at}} in zip {{ticket.zip_code}}
    {{counts.applications}} applications, {{counts.accepted}} accepted
    {{#each applicants}}
    • {{full_name}}: {{status}} on {{date applied_at}}
    {{/each}}
`,
});

const byPlatform: Shape = (index) => ({
  name: `recent-devices-${index}`,
  body: `title: Recently seen devices (${index})
description: Devices of one platform seen within some days, with their workers.
inputs:
  platform:
    type: string
    enum: [ios, android]
    description: The mobile platform.
  enabled_only:
    type: boolean
    default: true
    description: Count only devices that can receive push messages.
  days:
    type: integer
    minimum: 1
    maximum: 365
    default: ${7 + (index % 50)}
    unit: days
    unit_aliases: [day, d]
    description: How far back to look.
steps:
  - id: summary
    expect: optional
    sql: |
      select count(*) as devices, count(distinct worker_id) as workers from devices
      where platform = :platform and (enabled or not :enabled_only)
        and last_seen_at > now() - make_interval(days => :days)
  - id: recent
    limit: ${5 + (index % 10)}
    sql: |
      select d.sns_endpoint_arn, d.last_seen_at, w.email
      from devices d join workers w on w.id = d.worker_id
      where d.platform = :platform and (d.enabled or not :enabled_only)
      order by d.last_seen_at desc nulls last
timeout: ${500 + index * 10}ms
output:
  text: |
    {{number summary.devices}} {{platform}} devices of {{number summary.workers}} workers seen in the last {{days}} days
    {{#each recent}}
    • {{email}}, last seen {{datetime last_seen_at}}
    {{/each}}
`,
});

const SHAPES: readonly Shape[] = [byEmail, byWorkerId, byZip, byTicket, byPlatform];

/** Returns tool file number `index` (0-based); the shape cycles through the five above. */
export function toolFileVariation(index: number): ToolFileText {
  const shape = SHAPES[index % SHAPES.length] as Shape;
  const { name, body } = shape(index);
  const fileName = `tool-${String(index).padStart(3, '0')}-${name}.yaml`;
  return { fileName, name, text: `name: ${name}\n${body}` };
}
