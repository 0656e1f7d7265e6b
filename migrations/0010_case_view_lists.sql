-- Every list of cases is read in (created_at, case_id) order, a page at a time, under a filter:
-- an index per filter that serves the order too, so the first page of a place's or a PCN's cases
-- reads that page, not the place.
create index case_view_order on case_view (created_at, case_id);
create index case_view_place on case_view (place, created_at, case_id);
create index case_view_pcn on case_view (pcn_code, created_at, case_id);
create index case_view_champion on case_view (assigned_to, created_at, case_id) where assigned_to is not null;
