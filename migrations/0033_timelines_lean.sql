-- The figures are counted in memory (figures/held.rs): it reads case_timeline and
-- practice_timeline whole, or by case_id and ods_code. Nothing asks the two tables for a stretch
-- of time or for the present rows of a place any more, so the GiST indexes of 0009 and 0031 and
-- the partial (place, …) indexes of 0009 only cost each write: the figures projection, live and
-- rebuilt, writes these tables more than any other. A rebuild renames indexes (it copies the
-- tables `including all`), so they are found by what they are, not by name: every index of the
-- two tables but the plain one-column btree ones (on case_id and ods_code). A `figures` rebuild
-- by the previous version still running when this runs copies them back when it swaps its
-- tables in: rebuild `figures` again after such a deploy.
do $$
declare
    index_name regclass;
begin
    for index_name in
        select i.indexrelid::regclass
          from pg_index i
         where i.indrelid in (to_regclass('case_timeline'), to_regclass('practice_timeline'))
           and (i.indpred is not null
                or (select amname from pg_am join pg_class c on c.relam = pg_am.oid where c.oid = i.indexrelid) <> 'btree'
                or i.indnatts <> 1)
    loop
        execute format('drop index %s', index_name);
    end loop;
end
$$;
