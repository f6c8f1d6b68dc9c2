-- Per-account risk limits (docs/user-guide.md, "Risk limits"). An account without a row trades
-- under the built-in defaults. The checks repeat what `tickwork risk set` validates, so a row
-- written by hand cannot loosen a limit into nonsense (a zero collar, a negative quantity).
CREATE TABLE risk_limits (
    account                 TEXT PRIMARY KEY CHECK (account <> '' AND account !~ '\s'),
    max_quantity            NUMERIC NOT NULL CHECK (max_quantity > 0),
    max_notional            NUMERIC NOT NULL CHECK (max_notional > 0),
    price_collar            NUMERIC NOT NULL CHECK (price_collar > 0 AND price_collar <= 1),
    max_position            NUMERIC NOT NULL CHECK (max_position > 0),
    max_orders_per_minute   INTEGER NOT NULL CHECK (max_orders_per_minute > 0),
    max_daily_loss          NUMERIC NOT NULL CHECK (max_daily_loss > 0),
    max_quote_age_ms        INTEGER NOT NULL
                            CHECK (max_quote_age_ms > 0 AND max_quote_age_ms <= 86400000),
    allow_delayed_quotes    BOOLEAN NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
