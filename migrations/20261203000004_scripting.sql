-- Scripting: margin rules switched on and off, live-trading grants tied to a script's content,
-- strategy instances' saved state, and backtest results with their trades.

-- A stored margin rule applies only while enabled (strategies ignore the flag).
ALTER TABLE scripts ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;

-- Live trading by a script needs the user's grant for that account and exactly that content:
-- an edited script (another SHA-256) asks again.
CREATE TABLE script_grants (
    script          TEXT NOT NULL,
    account         TEXT NOT NULL,
    content_sha256  TEXT NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    granted_by      TEXT NOT NULL,
    granted_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (script, account)
);

-- One row per strategy instance (script × account × mode): its parameters and its `state` map,
-- saved while it runs and restored when it starts again.
CREATE TABLE script_instances (
    script          TEXT NOT NULL,
    account         TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('live', 'paper')),
    content_sha256  TEXT NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    params          JSONB NOT NULL DEFAULT '{}',
    state           JSONB NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'faulted')),
    fault           TEXT,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (script, account, mode)
);

-- A backtest: what ran (script content, parameters, bars, fill model) and what it gave.
CREATE TABLE backtests (
    id              BIGSERIAL PRIMARY KEY,
    script          TEXT NOT NULL,
    content_sha256  TEXT NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    symbol          TEXT NOT NULL,
    bar_seconds     INTEGER NOT NULL CHECK (bar_seconds > 0),
    from_ts         TIMESTAMPTZ NOT NULL,
    to_ts           TIMESTAMPTZ NOT NULL,
    -- 'postgres' or 'csv:<file name>'
    source          TEXT NOT NULL,
    params          JSONB NOT NULL,
    fill_model      JSONB NOT NULL,
    -- statistics with amounts as decimal strings
    stats           JSONB NOT NULL,
    -- [[time, equity], …] with equity as a decimal string, one point per bar
    equity          JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX backtests_by_script ON backtests (script, created_at);

CREATE TABLE backtest_trades (
    backtest_id     BIGINT NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    executed_at     TIMESTAMPTZ NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    quantity        NUMERIC NOT NULL CHECK (quantity > 0),
    price           NUMERIC NOT NULL,
    commission      NUMERIC NOT NULL,
    intent_id       BIGINT NOT NULL,
    PRIMARY KEY (backtest_id, seq)
);
