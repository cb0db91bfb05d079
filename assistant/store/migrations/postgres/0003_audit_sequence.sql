-- The highest audit id ever written, as SQLite keeps it in sqlite_sequence for an AUTOINCREMENT
-- table: verify reads it to find a removed last entry. Kept by a trigger, so it commits or rolls
-- back with the entry (a sequence's nextval would leave a gap on rollback and read as a removal).
CREATE TABLE audit_sequence (
    name text PRIMARY KEY,
    seq bigint NOT NULL);

CREATE FUNCTION audit_sequence_advance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_sequence VALUES ('audit_log', NEW.id)
        ON CONFLICT (name) DO UPDATE SET seq = greatest(audit_sequence.seq, EXCLUDED.seq);
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_sequence AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_sequence_advance();
