-- Cluster-wide roles of the Settings database. Run once per cluster by a
-- superuser, before the database is created (`createdb -O settings_owner
-- settings`) and before any migration. Safe to run again: each role is
-- created only when missing, and its attributes are (re)asserted every time.
--
--   settings_owner  owns the database and every object in it; migrations and
--                   the development seed run as this role. Not a superuser.
--   settings_app    the role the FastCGI executables connect as. Owns nothing,
--                   cannot bypass row-level security; what it may touch is
--                   granted by the migrations (006_rls).
--
-- Passwords: development clusters use local trust authentication, so none is
-- set here. Production sets them out of band, e.g.
--   ALTER ROLE settings_owner PASSWORD '...';
--   ALTER ROLE settings_app   PASSWORD '...';
-- (or \password in psql) and uses scram-sha-256 in pg_hba.conf.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'settings_owner') THEN
        CREATE ROLE settings_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'settings_app') THEN
        CREATE ROLE settings_app LOGIN;
    END IF;
END
$$;

ALTER ROLE settings_owner WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
    NOREPLICATION NOBYPASSRLS INHERIT;
ALTER ROLE settings_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
    NOREPLICATION NOBYPASSRLS INHERIT;
