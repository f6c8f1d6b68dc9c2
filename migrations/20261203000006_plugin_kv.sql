-- Native plugins' key-value store: small values under the plugin's id (`tickwork.host.kv-store/1`).
-- Values are bytes (a plugin's UTF-8 text may hold NUL, which TEXT refuses).
CREATE TABLE plugin_kv (
    plugin_id       TEXT NOT NULL,
    key             TEXT NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 256),
    value           BYTEA NOT NULL CHECK (octet_length(value) <= 65536),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (plugin_id, key)
);
