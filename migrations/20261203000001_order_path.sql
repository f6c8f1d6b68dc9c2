-- The order path across disconnects: what was requested is kept apart from what TWS
-- acknowledged, a cancel asked for while offline survives a restart, and a rejection keeps
-- TWS's reason.

ALTER TABLE orders
    -- A modification sent (or about to be) that TWS has not acknowledged yet. The quantity and
    -- price columns always hold what TWS last acknowledged.
    ADD COLUMN requested_quantity NUMERIC CHECK (requested_quantity > 0),
    ADD COLUMN requested_limit_price NUMERIC,
    ADD COLUMN requested_stop_price NUMERIC,
    ADD COLUMN requested_at TIMESTAMPTZ,
    -- The trader asked to cancel; carried out at the first chance (or locally, if TWS never
    -- received the order).
    ADD COLUMN cancel_requested_at TIMESTAMPTZ,
    -- Why the order ended as it did, in TWS's words (e.g. a 201 rejection) or ours.
    ADD COLUMN status_reason TEXT;
