-- A GP Connect search's detail, as NHS England's appointment checker shows it (issue 25): every
-- free slot returned in the window (date, start, duration, session, slot type, delivery channel,
-- practitioner role, location, counted or not), the slots already past, and the notices beside
-- the answer (informational or warning OperationOutcomes).
alter table slot_verifications
    add column slots       jsonb not null default '[]',
    add column past_slots  integer not null default 0,
    add column notices     text[] not null default '{}';
