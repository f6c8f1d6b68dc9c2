//! The recorder: market data, executions and account snapshots into PostgreSQL (issue 5).
