-- What each (re)synchronisation with TWS found: what changed while we were away, and which
-- orders had an outcome we could not determine.
CREATE TABLE sync_reports (
    id              BIGSERIAL PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    profile         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    report          JSONB NOT NULL
);
CREATE INDEX sync_reports_by_time ON sync_reports (at);
