-- Tickwork's first schema: what the session, recorder, risk gate, scripts and plugins need.
-- Money, prices and quantities are NUMERIC (exact); times are TIMESTAMPTZ.

-- Instruments as IB describes them (a contract). con_id is IB's id when known.
CREATE TABLE instruments (
    id              BIGSERIAL PRIMARY KEY,
    con_id          BIGINT UNIQUE,
    symbol          TEXT NOT NULL,
    sec_type        TEXT NOT NULL CHECK (sec_type IN ('STK', 'ETF', 'IND', 'OPT', 'FUT', 'FOP', 'CASH')),
    exchange        TEXT NOT NULL DEFAULT 'SMART',
    primary_exchange TEXT,
    currency        TEXT NOT NULL DEFAULT 'USD',
    expiry          DATE,
    strike          NUMERIC,
    option_right    CHAR(1) CHECK (option_right IN ('C', 'P')),
    multiplier      NUMERIC NOT NULL DEFAULT 1 CHECK (multiplier > 0),
    local_symbol    TEXT,
    trading_class   TEXT,
    description     TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One row per contract even when IB's con_id is not known yet.
CREATE UNIQUE INDEX instruments_natural_key ON instruments
    (symbol, sec_type, exchange, currency, COALESCE(expiry, DATE '0001-01-01'),
     COALESCE(strike, -1), COALESCE(option_right, '-'), multiplier);

CREATE TABLE accounts (
    code            TEXT PRIMARY KEY,
    alias           TEXT,
    base_currency   TEXT NOT NULL DEFAULT 'USD',
    is_paper        BOOLEAN NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Where to find TWS / IB Gateway. Secrets never live here (they are in the OS keyring).
CREATE TABLE connection_profiles (
    name            TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    host            TEXT NOT NULL DEFAULT '127.0.0.1',
    port            INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    client_id       INTEGER NOT NULL CHECK (client_id >= 0),
    account         TEXT,
    read_only       BOOLEAN NOT NULL DEFAULT TRUE,
    allow_remote    BOOLEAN NOT NULL DEFAULT FALSE,
    auto_client_id  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Positions as TWS reported them at a moment: one snapshot id groups the rows of one sync.
CREATE TABLE position_snapshots (
    id              BIGSERIAL PRIMARY KEY,
    account         TEXT NOT NULL REFERENCES accounts (code),
    taken_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    source          TEXT NOT NULL
);
CREATE TABLE positions (
    snapshot_id     BIGINT NOT NULL REFERENCES position_snapshots (id) ON DELETE CASCADE,
    instrument_id   BIGINT NOT NULL REFERENCES instruments (id),
    quantity        NUMERIC NOT NULL,
    average_cost    NUMERIC NOT NULL,
    PRIMARY KEY (snapshot_id, instrument_id)
);
CREATE INDEX position_snapshots_by_account ON position_snapshots (account, taken_at DESC);

-- Orders we sent or saw. order_ref is ours and unique: it is how a resend after a disconnect is
-- recognised as the same order.
CREATE TABLE orders (
    id              BIGSERIAL PRIMARY KEY,
    order_ref       TEXT NOT NULL UNIQUE,
    account         TEXT NOT NULL,
    instrument_id   BIGINT NOT NULL REFERENCES instruments (id),
    origin          TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    quantity        NUMERIC NOT NULL CHECK (quantity > 0),
    order_type      TEXT NOT NULL CHECK (order_type IN ('MKT', 'LMT', 'STP', 'STP LMT')),
    limit_price     NUMERIC,
    stop_price      NUMERIC,
    time_in_force   TEXT NOT NULL CHECK (time_in_force IN ('DAY', 'GTC', 'IOC')),
    parent_ref      TEXT REFERENCES orders (order_ref),
    tws_order_id    INTEGER,
    tws_perm_id     BIGINT,
    tws_client_id   INTEGER,
    status          TEXT NOT NULL,
    filled_quantity NUMERIC NOT NULL DEFAULT 0,
    average_fill_price NUMERIC,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_account_status ON orders (account, status);
CREATE UNIQUE INDEX orders_by_perm_id ON orders (tws_perm_id) WHERE tws_perm_id IS NOT NULL;

-- Fills. exec_id is IB's and unique: replays after a reconnect are idempotent.
CREATE TABLE executions (
    exec_id         TEXT PRIMARY KEY,
    order_ref       TEXT,
    tws_order_id    INTEGER,
    tws_perm_id     BIGINT,
    account         TEXT NOT NULL,
    instrument_id   BIGINT NOT NULL REFERENCES instruments (id),
    side            TEXT NOT NULL CHECK (side IN ('BOT', 'SLD')),
    quantity        NUMERIC NOT NULL CHECK (quantity > 0),
    price           NUMERIC NOT NULL,
    commission      NUMERIC,
    commission_currency TEXT,
    realized_pnl    NUMERIC,
    executed_at     TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX executions_by_time ON executions (executed_at);
CREATE INDEX executions_by_account_time ON executions (account, executed_at);

-- Market data. No primary key on ticks: they are appended by COPY and read by instrument and time.
CREATE TABLE ticks (
    instrument_id   BIGINT NOT NULL,
    ts              TIMESTAMPTZ NOT NULL,
    kind            SMALLINT NOT NULL,
    price           NUMERIC,
    size            NUMERIC
);
CREATE INDEX ticks_by_instrument_time ON ticks (instrument_id, ts);

CREATE TABLE bars (
    instrument_id   BIGINT NOT NULL,
    bar_seconds     INTEGER NOT NULL CHECK (bar_seconds > 0),
    ts              TIMESTAMPTZ NOT NULL,
    open            NUMERIC NOT NULL,
    high            NUMERIC NOT NULL,
    low             NUMERIC NOT NULL,
    close           NUMERIC NOT NULL,
    volume          NUMERIC NOT NULL,
    PRIMARY KEY (instrument_id, bar_seconds, ts)
);

CREATE TABLE account_values (
    account         TEXT NOT NULL,
    taken_at        TIMESTAMPTZ NOT NULL,
    key             TEXT NOT NULL,
    currency        TEXT NOT NULL DEFAULT '',
    value           TEXT NOT NULL,
    PRIMARY KEY (account, taken_at, key, currency)
);

-- User Rhai scripts; the source is kept so a backtest can be reproduced.
CREATE TABLE scripts (
    name            TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),
    kind            TEXT NOT NULL CHECK (kind IN ('strategy', 'margin_rule')),
    source          TEXT NOT NULL,
    trading_granted BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Native plugins the user trusted: the library hash pins what was trusted.
CREATE TABLE plugins (
    id              TEXT PRIMARY KEY,
    version         TEXT NOT NULL,
    library_sha256  TEXT NOT NULL CHECK (library_sha256 ~ '^[0-9a-f]{64}$'),
    permissions     TEXT[] NOT NULL DEFAULT '{}',
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    trusted_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every order intent and risk decision, and every other action worth auditing. Append-only.
CREATE TABLE audit_log (
    id              BIGSERIAL PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    decision        TEXT,
    reason          TEXT,
    details         JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_time ON audit_log (at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- Settings and saved layouts: small JSON documents by key.
CREATE TABLE settings (
    key             TEXT PRIMARY KEY,
    value           JSONB NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
