-- 017 (PostgreSQL): the three big month-replaced core tables (core_tax, core_energy,
-- core_stats_enterprise: 96% of the rows, feeds.md -> Keys "replace by period") become
-- partitioned by LIST (period), one partition per month, so that a corrected or new month is
-- published by swapping one partition (mfg_indicators.load.publish_direct) instead of deleting
-- and re-inserting its rows. A month's partition is created by the load that brings it; the
-- DEFAULT partition (<table>_default) takes rows written by plain INSERTs (maintenance, tests)
-- of a month that has none, and stays empty otherwise (an ATTACH scans it: empty, at once).
--
-- Partitions live in their own schema, core_part (named <table>_<YYYY>_<MM>), so that tools
-- listing the tables of the public schema (SQLAlchemy's inspector, the data dictionary, BI tools)
-- see each core table once; reading the parent needs no privilege on core_part.
--
-- Data kept: each table is renamed aside, a partitioned table of the same shape (columns, NOT
-- NULL, primary key (period, uscc), comments, grants) takes its name, its rows move in, and
-- every view that read the old table is re-pointed with CREATE OR REPLACE VIEW (same columns,
-- so the view keeps its comments, grants and the views built on it), then the old table goes.

CREATE SCHEMA IF NOT EXISTS core_part;

DO $$
DECLARE
    t text;
    p text;
    old_name text;
    v record;
    g record;
    def text;
    tables text[] := ARRAY['tax', 'energy', 'stats_enterprise'];
BEGIN
    -- 1. Move the plain tables aside (views follow a renamed table by its oid).
    FOREACH t IN ARRAY tables LOOP
        old_name := 'core_' || t || '__unpartitioned';
        EXECUTE format('ALTER TABLE %I RENAME TO %I', 'core_' || t, old_name);
        EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', old_name, 'core_' || t || '_pkey',
                       old_name || '_pkey');
        -- 2. The partitioned table of the same shape (INCLUDING ALL: NOT NULL, defaults, the primary
        --    key, column comments), with the old table's comment and grants.
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING ALL) PARTITION BY LIST (period)', 'core_' || t, old_name);
        IF obj_description(old_name::regclass, 'pg_class') IS NOT NULL THEN
            EXECUTE format('COMMENT ON TABLE %I IS %L', 'core_' || t, obj_description(old_name::regclass, 'pg_class'));
        END IF;
        FOR g IN
            SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS who
              FROM pg_class c
             CROSS JOIN LATERAL aclexplode(c.relacl) a
              LEFT JOIN pg_roles r ON r.oid = a.grantee
             WHERE c.oid = old_name::regclass AND a.grantee <> c.relowner
        LOOP
            EXECUTE format('GRANT %s ON %I TO %s', g.privilege_type, 'core_' || t, g.who);
        END LOOP;
        -- 3. One partition per month present, then the rows.
        FOR p IN EXECUTE format('SELECT DISTINCT period FROM %I ORDER BY 1', old_name) LOOP
            IF p !~ '^[0-9]{4}-[0-9]{2}$' THEN
                RAISE EXCEPTION '% holds a period that is not YYYY-MM: %', 'core_' || t, p;
            END IF;
            EXECUTE format('CREATE TABLE core_part.%I PARTITION OF %I FOR VALUES IN (%L)',
                           t || '_' || replace(p, '-', '_'), 'core_' || t, p);
        END LOOP;
        EXECUTE format('CREATE TABLE core_part.%I PARTITION OF %I DEFAULT', t || '_default', 'core_' || t);
        EXECUTE format('INSERT INTO %I SELECT * FROM %I', 'core_' || t, old_name);
    END LOOP;

    -- 4. Re-point every view that reads one of the old tables (each view once, all three names
    --    replaced), then drop the old tables.
    FOR v IN
        SELECT DISTINCT r.ev_class AS oid
          FROM pg_depend d
          JOIN pg_rewrite r ON r.oid = d.objid
         WHERE d.classid = 'pg_rewrite'::regclass
           AND d.refclassid = 'pg_class'::regclass
           AND d.refobjid IN (SELECT ('core_' || x || '__unpartitioned')::regclass FROM unnest(tables) x)
           AND r.ev_class NOT IN (SELECT ('core_' || x || '__unpartitioned')::regclass FROM unnest(tables) x)
    LOOP
        def := pg_get_viewdef(v.oid, false);
        FOREACH t IN ARRAY tables LOOP
            def := replace(def, 'core_' || t || '__unpartitioned', 'core_' || t);
        END LOOP;
        EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', v.oid::regclass, def);
    END LOOP;
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('DROP TABLE %I', 'core_' || t || '__unpartitioned');
    END LOOP;
END
$$;

-- New partitions come with fresh statistics from their load; these from the migration's rows.
ANALYZE core_tax;
ANALYZE core_energy;
ANALYZE core_stats_enterprise;
