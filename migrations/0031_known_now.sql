-- The figures as known now, at any business time: a summary `asOf` a past day without `knownAt`
-- (the dashboard's "a week ago" and "since your last visit") reads only the rows of the present
-- knowledge, through an index of their business-time stretches alone. The two-dimensional index
-- of 0009 stays for `knownAt`.
create index case_timeline_known_now on case_timeline
    using gist (tstzrange(valid_from, valid_to)) where recorded_to = 'infinity';
create index practice_timeline_known_now on practice_timeline
    using gist (tstzrange(valid_from, valid_to)) where recorded_to = 'infinity';
