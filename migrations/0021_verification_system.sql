-- The practice's system as its CapabilityStatement names it ("EMIS Web 9.2"), asked before each
-- GP Connect search (issue 25).
alter table slot_verifications add column provider_system text;
