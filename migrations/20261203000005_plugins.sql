-- Native plugins: why a trusted plugin is switched off, and how often it failed.
--
-- `disabled_reason` says why `enabled` is false (the user, a crash found in the crash journal,
-- repeated faults); `faults` counts the faults since it was last trusted or enabled, and the
-- last load failure is kept so `tickwork plugins list` can show it without loading anything.
ALTER TABLE plugins
    ADD COLUMN disabled_reason TEXT,
    ADD COLUMN faults INT NOT NULL DEFAULT 0 CHECK (faults >= 0),
    ADD COLUMN last_error TEXT,
    ADD COLUMN last_error_kind TEXT CHECK (last_error_kind IN ('faulted', 'incompatible')),
    ADD COLUMN last_error_at TIMESTAMPTZ,
    ADD CONSTRAINT plugins_last_error_kind CHECK ((last_error IS NULL) = (last_error_kind IS NULL));
